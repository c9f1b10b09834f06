"""What the conformance suites look at: a run's actions by id, its tree, and the processes this
process started (so a suite can check nothing is left running)."""

from __future__ import annotations

import os
from pathlib import Path

from flyte_core.run.handle import Run
from flyte_core.runstore.records import ActionRecord, Phase


def by_action(run: Run) -> dict[str, ActionRecord]:
    """The run's actions by id (``a0``, ``a0.1``, ...)."""
    return {a.action: a for a in run.actions()}


def tree(run: Run) -> dict[str, tuple[str | None, str, Phase]]:
    """Each action's parent, task and phase."""
    return {a.action: (a.parent, a.task, a.phase) for a in run.actions()}


def child_processes() -> set[int]:
    """Live (or unreaped) child processes of this process, from ``/proc``; empty elsewhere."""
    me, out = os.getpid(), set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return set()
    for entry in entries:
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                out.add(int(entry))
    return out


def cmdline(pid: int) -> str:
    """The command line of process ``pid``, or ``?`` when it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"
