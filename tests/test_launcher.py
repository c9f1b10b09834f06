"""Launchers (``flyte_register_launchers``): a run driven away from the process that started it.

The launcher here is a real one a third party could ship: it starts ``flyte run
--local-controller`` as a detached process of this machine sharing the run store, so the run
outlives its launcher. The session must find the run at once (queued), let that controller adopt
the reserved name, keep asking the launcher to sync while the run is unfinished, pass aborts on,
and end a run whose driver vanished with the launcher's reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import pytest

from flyte_core.errors.core import FlyteUsageError
from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.run.handle import Run
from flyte_core.run.launcher import LAUNCHER_LABEL, LauncherRegistry, LaunchRequest, launcher_of
from flyte_core.run.session import Session
from flyte_core.runstore.records import ErrorInfo, Phase, RunRecord
from flyte_core.task.loader import load_file, tasks_in

TASKS = '''
import time

import flyte

env = flyte.TaskEnvironment(name="bg")


@env.task
def double(x: int) -> int:
    return 2 * x


@env.task
def nap(s: float) -> float:
    time.sleep(s)
    return s
'''


class BackgroundLauncher:
    """Drives each run in a detached ``flyte run --local-controller`` process of this machine."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.syncs: list[str] = []
        self.aborts: list[str] = []

    @hookimpl
    def flyte_register_launchers(self, registry: LauncherRegistry) -> None:
        registry.add("local", self)

    def launch(self, session: Session, request: LaunchRequest) -> RunRecord:
        name = request.name or f"bg{len(self.procs)}"
        labels = {**request.labels, LAUNCHER_LABEL: "local"}
        record = RunRecord(name=name, task=f"bg.{request.task}", phase=Phase.QUEUED, backend="local",
                           created_at=time.time(), labels=labels)
        session.runs.put_run(record)
        argv = [sys.executable, "-m", "flyte_core.cli", "run", "--local-controller", "--no-progress", "--name", name,
                "--backend", "local", *(x for k, v in labels.items() for x in ("--label", f"{k}={v}")),
                request.file, request.task, *request.inputs]
        env = {**os.environ, "FLYTE_HOME": str(self.home)}
        self.procs[name] = subprocess.Popen(argv, cwd=session.root_dir, env=env, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=True)
        return record

    def sync(self, session: Session, run: RunRecord) -> None:
        self.syncs.append(run.name)
        proc = self.procs.get(run.name)
        rec = session.runs.get_run(run.name)
        if proc is not None and proc.poll() is not None and rec is not None and not rec.phase.is_terminal:
            session.runs.put_run(attrs.evolve(rec, phase=Phase.INTERRUPTED, ended_at=time.time(), error=ErrorInfo(
                "DriverGone", "system", f"the process driving run {run.name} exited ({proc.returncode})")))

    def abort(self, session: Session, run: RunRecord) -> None:
        self.aborts.append(run.name)  # the run store's abort flag reaches the controller


@pytest.fixture
def launched(tmp_path: Path) -> Any:
    (tmp_path / "bg.py").write_text(TASKS)
    home = tmp_path / "home"
    launcher = BackgroundLauncher(home)
    session = Session(plugins=(launcher,), root_dir=tmp_path, run_store=str(home / "runs.db"),
                      data_url=str(home / "data"))
    yield session, launcher
    for proc in launcher.procs.values():
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    session.close()


def wait_until_terminal(session: Session, name: str, timeout: float = 60) -> RunRecord:
    deadline = time.time() + timeout
    while True:
        rec = session.get_run(name)
        assert rec is not None
        if rec.phase.is_terminal:
            return rec
        assert time.time() < deadline, f"run {name} is still {rec.phase}"
        time.sleep(0.1)


def test_a_launched_run_is_found_at_once_and_synced_until_it_ends(launched: Any) -> None:
    session, launcher = launched
    rec = session.launch("local", LaunchRequest(file="bg.py", task="double", inputs=["--x", "21"], name="r1",
                                                labels={"team": "a"}))
    assert rec.phase is Phase.QUEUED and launcher_of(rec) == "local"
    assert session.get_run("r1") is not None  # recorded before its controller started
    final = wait_until_terminal(session, "r1")
    assert final.phase is Phase.SUCCEEDED, final.error
    assert final.labels == {"team": "a", LAUNCHER_LABEL: "local"}  # the adopting controller kept them
    assert "r1" in launcher.syncs
    synced = len(launcher.syncs)
    session.get_run("r1")
    assert len(launcher.syncs) == synced  # an ended run is not synced again
    double = tasks_in(load_file(Path(session.root_dir) / "bg.py", session.root_dir))["double"]
    assert Run(session, "r1", double, []).outputs()[0] == 42


def test_abort_reaches_the_launcher_and_the_controller(launched: Any) -> None:
    session, launcher = launched
    session.launch("local", LaunchRequest(file="bg.py", task="nap", inputs=["--s", "60"], name="r2"))
    deadline = time.time() + 30
    while (session.get_run("r2") or launched).phase is not Phase.RUNNING:
        assert time.time() < deadline
        time.sleep(0.1)
    session.abort("r2")
    assert launcher.aborts == ["r2"]
    assert wait_until_terminal(session, "r2").phase is Phase.ABORTED


def test_a_vanished_driver_ends_the_run_with_the_launchers_reason(launched: Any) -> None:
    session, launcher = launched
    session.launch("local", LaunchRequest(file="bg.py", task="nap", inputs=["--s", "60"], name="r3"))
    time.sleep(1)
    os.killpg(launcher.procs["r3"].pid, signal.SIGKILL)
    launcher.procs["r3"].wait()
    final = wait_until_terminal(session, "r3")
    assert final.phase is Phase.INTERRUPTED
    assert final.error is not None and "exited" in final.error.message


def test_a_name_in_use_and_a_backend_without_launcher_are_refused(launched: Any) -> None:
    session, _ = launched
    session.launch("local", LaunchRequest(file="bg.py", task="double", inputs=["--x", "1"], name="r4"))
    with pytest.raises(Exception, match="already exists"):
        session.launch("local", LaunchRequest(file="bg.py", task="double", name="r4"))
    with pytest.raises(FlyteUsageError, match="drives its runs in this process"):
        session.launch("local-process", LaunchRequest(file="bg.py", task="double"))
    wait_until_terminal(session, "r4")


def test_detach_needs_a_backend_with_a_launcher(tmp_path: Path) -> None:
    (tmp_path / "bg.py").write_text(TASKS)
    r = subprocess.run([sys.executable, "-m", "flyte_core.cli", "run", "--detach", "bg.py", "double", "--x", "1"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "FLYTE_HOME": str(tmp_path / "home")})
    assert r.returncode == 2
    assert "--detach needs a run driven away from this process" in r.stderr and "kubernetes" in r.stderr, r.stderr
