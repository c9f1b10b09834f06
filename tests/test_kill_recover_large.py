"""kill -9 of a real ``flyte run`` process in the middle of a run of thousands of actions: the run
store stays readable, holds every action the recorder committed, and ``--recover`` reuses exactly
those."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flyte_core.runstore.records import Phase
from flyte_core.runstore.sqlite import SQLiteRunStore

FLOW = '''
import os, time
from pathlib import Path
import flyte

env = flyte.TaskEnvironment(name="big")


@env.task
def step(i: int) -> int:
    if i == 4000 and Path(os.environ["HANG"]).exists():
        time.sleep(600)
    return i


@env.task
def chain(n: int) -> int:
    return sum(step(i) for i in range(n))
'''


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "HANG": str(tmp_path / "hang"), "FLYTE_HOME": str(tmp_path / "home")}


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=_env(tmp_path), timeout=300)


def test_kill_9_mid_run_keeps_what_was_committed_and_recover_reuses_it(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text(FLOW)
    (tmp_path / "hang").touch()
    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--name", "victim",
                             "big.py", "chain", "--n", "5000"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=_env(tmp_path))
    db = tmp_path / "home" / "runs.db"
    committed = 0
    deadline = time.time() + 240
    while committed < 1000 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            store = SQLiteRunStore(db)
            try:
                if store.get_run("victim") is not None:
                    committed = sum(a.phase is Phase.SUCCEEDED for a in store.get_actions("victim"))
            finally:
                store.close()
    assert committed >= 1000, "the run did not commit actions while running"
    os.kill(proc.pid, signal.SIGKILL)  # mid-run: step 4000 hangs, so it cannot have finished
    proc.wait()

    shown = cli(tmp_path, "runs", "show", "victim", "--json", "--limit", "0")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["run"]["phase"] == "interrupted"
    succeeded = {a["action"] for a in data["actions"] if a["phase"] == "succeeded"}
    assert len(succeeded) >= committed
    assert succeeded == {f"a0.{i}" for i in range(1, len(succeeded) + 1)}  # a prefix of the chain
    for a in data["actions"]:
        if a["phase"] == "succeeded":
            assert a["outputs"] is not None and a["ended_at"] is not None

    (tmp_path / "hang").unlink()
    r = cli(tmp_path, "run", "--recover", "victim", "--name", "saved", "big.py", "chain", "--n", "5000")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{sum(range(5000))}\n"
    store = SQLiteRunStore(tmp_path / "home" / "runs.db")
    try:
        actions = store.get_actions("saved")
    finally:
        store.close()
    assert len(actions) == 5001
    reused = {a.action for a in actions if a.recovered_from == "victim"}
    assert reused == succeeded
