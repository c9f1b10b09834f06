"""Runs that last: recovery (also after kill -9 of the driver), abort from another process, a
failing parent cancelling its subtree, and concurrent runs against one run store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import flyte
from flyte_core.errors.core import RuntimeUserError
from flyte_core.run.session import RunOptions, Session

FLOW = '''
import asyncio, os, time
from pathlib import Path
import flyte

env = flyte.TaskEnvironment(name="flow")
MARKS = Path(os.environ["MARKS"])


def mark(what: str) -> None:
    with open(MARKS, "a") as f:
        f.write(what + "\\n")


@env.task
def step(i: int) -> int:
    mark(f"step{i}")
    if i == 2 and (MARKS.parent / "fail").exists():
        raise RuntimeError("step 2 breaks")
    if i == 2 and (MARKS.parent / "hang").exists():
        time.sleep(600)
    return i * 10


@env.task
def flow(n: int) -> int:
    return sum(step(i) for i in range(n))


@env.task
async def forever(i: int) -> int:
    mark(f"forever{i}")
    await asyncio.sleep(600)
    return i


@env.task
async def boom_after(i: int) -> int:
    await asyncio.sleep(0.3)
    raise ValueError("parent-side failure")


@env.task
async def fan_and_fail(n: int) -> list[int]:
    return list(await asyncio.gather(boom_after(0), *[forever(i) for i in range(n)]))


@env.task
async def long_fan(n: int) -> list[int]:
    return list(await asyncio.gather(*[forever(i) for i in range(n)]))
'''


@pytest.fixture
def flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from flyte_core.task.loader import load_file

    monkeypatch.setenv("MARKS", str(tmp_path / "marks"))
    (tmp_path / "flow.py").write_text(FLOW)
    sys.modules.pop("flow", None)
    return load_file(tmp_path / "flow.py", tmp_path)


def marks(tmp_path: Path) -> list[str]:
    p = tmp_path / "marks"
    return p.read_text().split() if p.exists() else []


def session(tmp_path: Path) -> Session:
    return Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "MARKS": str(tmp_path / "marks"),
                                             "FLYTE_HOME": str(tmp_path / "home")}, timeout=120)


def test_recover_reuses_every_succeeded_action(tmp_path: Path, flow) -> None:  # type: ignore[no-untyped-def]
    s = session(tmp_path)
    (tmp_path / "fail").touch()
    with pytest.raises(RuntimeUserError, match="step 2 breaks"):
        s.run(flow.flow, n=4)
    failed = s.runs.list_runs()[0].name
    assert marks(tmp_path) == ["step0", "step1", "step2"]
    (tmp_path / "fail").unlink()
    run = s.run_with(RunOptions(recover=failed), flow.flow, (), {})  # the failed run's inputs
    assert run.outputs()[0] == 60
    assert marks(tmp_path) == ["step0", "step1", "step2", "step2", "step3"]
    reused = {a.action: a.recovered_from for a in run.actions()}
    assert reused == {"a0": None, "a0.1": failed, "a0.2": failed, "a0.3": None, "a0.4": None}
    assert run.record.recovered_from == failed


def test_kill_9_of_the_driver_then_recover(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    (tmp_path / "hang").touch()
    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--name", "victim",
                             "flow.py", "flow", "--n", "4"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, "MARKS": str(tmp_path / "marks"), "FLYTE_HOME": str(tmp_path / "home")})
    deadline = time.time() + 30
    while "step2" not in marks(tmp_path) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # let the recorder write the finished steps
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    shown = json.loads(cli(tmp_path, "runs", "show", "victim", "--json").stdout)
    assert shown["run"]["phase"] == "interrupted"
    phases = {a["action"]: a["phase"] for a in shown["actions"]}
    assert phases == {"a0": "interrupted", "a0.1": "succeeded", "a0.2": "succeeded", "a0.3": "interrupted"}
    (tmp_path / "hang").unlink()
    r = cli(tmp_path, "run", "--recover", "victim", "--name", "saved", "flow.py", "flow", "--n", "4")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "60\n"
    assert marks(tmp_path) == ["step0", "step1", "step2", "step2", "step3"]
    listed = json.loads(cli(tmp_path, "runs", "list", "--status", "interrupted", "--json").stdout)
    assert [x["name"] for x in listed] == ["victim"]


def test_abort_from_another_process_stops_the_tree(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--name", "longrun",
                             "flow.py", "long_fan", "--n", "3"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MARKS": str(tmp_path / "marks"), "FLYTE_HOME": str(tmp_path / "home")})
    deadline = time.time() + 30
    while len(marks(tmp_path)) < 3 and time.time() < deadline:
        time.sleep(0.05)
    r = cli(tmp_path, "runs", "abort", "longrun")
    assert r.returncode == 0 and "aborted" in r.stdout, r.stderr
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "was aborted" in err
    shown = json.loads(cli(tmp_path, "runs", "show", "longrun", "--json").stdout)
    assert shown["run"]["phase"] == "aborted"
    assert {a["phase"] for a in shown["actions"]} == {"aborted"}


def test_a_failing_parent_cancels_its_running_children(tmp_path: Path, flow, no_thread_leak: None) -> None:  # type: ignore[no-untyped-def]
    s = session(tmp_path)
    start = time.time()
    with pytest.raises(RuntimeUserError, match="parent-side failure"):
        s.run(flow.fan_and_fail, n=3)
    assert time.time() - start < 10
    run = s.runs.list_runs()[0]
    phases = {a.action: a.phase.value for a in s.runs.get_actions(run.name)}
    assert phases == {"a0": "failed", "a0.1": "failed", "a0.2": "aborted", "a0.3": "aborted", "a0.4": "aborted"}


def test_two_runs_at_once_from_two_processes(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    env = {**os.environ, "MARKS": str(tmp_path / "marks"), "FLYTE_HOME": str(tmp_path / "home")}
    procs = [subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--name", f"par{i}",
                               "flow.py", "flow", "--n", "30"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert [o[0] for o in outs] == [f"{sum(i * 10 for i in range(30))}\n"] * 2
    for i in range(2):
        shown = json.loads(cli(tmp_path, "runs", "show", f"par{i}", "--json").stdout)
        assert len(shown["actions"]) == 31 and {a["phase"] for a in shown["actions"]} == {"succeeded"}


def test_python_abort_api(tmp_path: Path, flow) -> None:  # type: ignore[no-untyped-def]
    import threading

    s = session(tmp_path)
    box: dict[str, BaseException] = {}

    def go() -> None:
        try:
            s.run_with(RunOptions(name="py-abort"), flow.long_fan, (), {"n": 2})
        except BaseException as e:
            box["e"] = e

    t = threading.Thread(target=go)
    t.start()
    deadline = time.time() + 30
    while len(marks(tmp_path)) < 2 and time.time() < deadline:
        time.sleep(0.05)
    s.abort("py-abort")
    t.join(30)
    assert isinstance(box["e"], flyte.errors.RunAbortedError)
    assert s.get_run("py-abort").phase.value == "aborted"  # type: ignore[union-attr]
