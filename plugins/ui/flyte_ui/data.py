"""What the UI reads: runs, actions and logs from the session's run store, reports from its data
store. One small facade, so the JSON API and the HTML pages read the same way."""

from __future__ import annotations

import re

from fsspec.core import url_to_fs

from flyte_core.extend import REPORT_FILE, ActionRecord, LogLine, Phase, RunRecord, Session, report_url

#: Action ids are paths like ``a0.1.2``; anything else in a URL is refused before it reaches a
#: file path (no ``..``, no slashes).
_ACTION_ID = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


class UiData:
    """Read-only access to one session's run store and data store."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def runs(self, *, phase: Phase | None = None, task: str | None = None, limit: int = 100) -> list[RunRecord]:
        """Runs, newest first."""
        return self.session.runs.list_runs(limit=limit, phase=phase, task=task)

    def tasks(self, limit: int = 500) -> list[str]:
        """Task names of recent runs (for the filter), sorted."""
        return sorted({r.task for r in self.session.runs.list_runs(limit=limit)})

    def run(self, name: str) -> RunRecord | None:
        """The run called ``name``, or None."""
        return self.session.runs.get_run(name)

    def actions(self, name: str, *, offset: int = 0, limit: int | None = None) -> list[ActionRecord]:
        """The run's actions in creation order: all, or ``limit`` of them from ``offset``."""
        return self.session.runs.get_actions(name, offset=offset, limit=limit)

    def count_actions(self, name: str) -> int:
        """How many actions the run has."""
        return self.session.runs.count_actions(name)

    def logs(self, name: str, action: str | None = None, *, after: int = 0) -> list[tuple[int, LogLine]]:
        """Log lines after sequence number ``after``, of the run or of ``action`` and its descendants."""
        return self.session.runs.get_logs(name, action, after=after)

    # --- reports -------------------------------------------------------------------------------

    def run_base_dir(self, name: str) -> str:
        """The run's folder in the data store (what tasks see as ``run_base_dir``)."""
        return self.session.data.url("runs", name)

    def report_actions(self, name: str) -> set[str]:
        """Actions of run ``name`` that have a stored report: one listing, not one look-up per action."""
        fs, base = url_to_fs(self.run_base_dir(name))
        try:
            found = fs.glob(f"{base.rstrip('/')}/*/{REPORT_FILE}")
        except (FileNotFoundError, NotADirectoryError):
            return set()
        return {str(p).rstrip("/").split("/")[-2] for p in found}

    def report(self, name: str, action: str) -> bytes | None:
        """The stored report HTML of ``action``, or None."""
        if not _ACTION_ID.match(action):
            return None
        url = report_url(self.run_base_dir(name), action)
        try:
            return self.session.data.get_bytes(url)
        except (FileNotFoundError, IsADirectoryError):
            return None


def valid_action_id(action: str) -> bool:
    """True if ``action`` looks like an action id (``a0.1``)."""
    return bool(_ACTION_ID.match(action))
