"""Runs whose controller died (kill -9, a crash, a lost machine) are shown as interrupted, never as
running forever: a controller writes a heartbeat while it drives a run, and whoever reads the run
store settles runs whose controller is gone."""

from __future__ import annotations

import os
import socket
import time

import attrs

from flyte_core.runstore.records import ErrorInfo, Phase, RunRecord
from flyte_core.runstore.store import RunStore

#: How often a controller writes its heartbeat, in seconds.
HEARTBEAT_SECONDS = 1.0
#: A run whose heartbeat is older than this is taken as interrupted (controller on another machine).
STALE_SECONDS = 30.0


def controller_alive(label: str) -> bool:
    """Whether the controller named ``pid@host`` (as container and pod labels carry it) may still
    be running: False only when it ran on this machine and its process is gone."""
    pid_text, _, host = label.partition("@")
    if not label or host != socket.gethostname():
        return True  # another machine's controller: not ours to judge
    try:
        return _pid_alive(int(pid_text))
    except ValueError:
        return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def controller_gone(run: RunRecord, now: float | None = None) -> bool:
    """True when a non-terminal run's controller is certainly gone."""
    if run.phase.is_terminal:
        return False
    now = now if now is not None else time.time()
    local = run.host == socket.gethostname() and run.pid is not None and run.pid != os.getpid()
    if local and not _pid_alive(run.pid):  # type: ignore[arg-type]
        return True
    return run.heartbeat is not None and now - run.heartbeat > STALE_SECONDS


def settle(store: RunStore, run: RunRecord) -> RunRecord:
    """Mark ``run`` (and its unfinished actions) interrupted if its controller is gone."""
    if not controller_gone(run):
        return run
    now = time.time()
    info = ErrorInfo("TaskInterruptedError", "system",
                     f"The process driving run {run.name} (pid {run.pid} on {run.host}) stopped before the run "
                     f"finished; recover it with `flyte run --recover {run.name} ...`.", action="a0")
    actions = [attrs.evolve(a, phase=Phase.INTERRUPTED, ended_at=a.ended_at or now)
               for a in store.get_actions(run.name, unfinished=True)]
    if actions:
        store.put_actions(actions)
    settled = attrs.evolve(run, phase=Phase.INTERRUPTED, ended_at=now, error=run.error or info)
    store.put_run(settled)
    return settled
