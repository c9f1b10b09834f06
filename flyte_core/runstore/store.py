"""The run-store interface every implementation provides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from flyte_core.runstore.records import ActionRecord, CacheEntry, EventRecord, LogLine, Phase, RunRecord


@runtime_checkable
class RunStore(Protocol):
    """Persistent history of runs. Writes may come from several threads and processes at once."""

    def put_run(self, run: RunRecord) -> None:
        """Insert or replace a run."""
        ...

    def put_actions(self, actions: Sequence[ActionRecord]) -> None:
        """Insert or replace actions (one transaction)."""
        ...

    def write_batch(self, actions: Sequence[tuple[Any, ...]], events: Sequence[EventRecord],
                    logs: Sequence[LogLine], cache: Sequence[CacheEntry] = ()) -> None:
        """Upsert action rows (a run recorder's rows, in the store's column order; a missing text
        may be ``NULL_TEXT`` instead of None) and cache entries, and append events and log lines,
        in one transaction."""
        ...

    def add_events(self, events: Sequence[EventRecord]) -> None:
        """Append phase changes (one transaction)."""
        ...

    def add_logs(self, lines: Sequence[LogLine]) -> None:
        """Append log lines (one transaction)."""
        ...

    def get_run(self, name: str) -> RunRecord | None:
        """The run called ``name``, or None."""
        ...

    def list_runs(
        self, *, limit: int = 50, phase: Phase | None = None, task: str | None = None,
        since: float | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, optionally filtered."""
        ...

    def get_actions(self, run: str, *, offset: int = 0, limit: int | None = None,
                    unfinished: bool = False) -> list[ActionRecord]:
        """The actions of ``run`` in creation order: all, a page (``offset``, ``limit``), or only
        those not in a terminal phase."""
        ...

    def get_action(self, run: str, action: str) -> ActionRecord | None:
        """The action ``action`` (an id like ``a0.1``) of ``run``, or None."""
        ...

    def count_actions(self, run: str) -> int:
        """How many actions ``run`` has."""
        ...

    def get_events(self, run: str, action: str | None = None) -> list[EventRecord]:
        """Phase changes of a run (or one action), in order."""
        ...

    def get_logs(self, run: str, action: str | None = None, *, after: int = 0) -> list[tuple[int, LogLine]]:
        """Log lines of a run (or one action and its descendants when ``action`` is given), each
        with its sequence number; ``after`` skips lines up to that number (for following)."""
        ...

    def heartbeat(self, run: str, at: float) -> None:
        """Record that the controller of ``run`` is alive at ``at``."""
        ...

    def request_abort(self, run: str) -> bool:
        """Ask the controller of ``run`` to abort it; False if there is no such run."""
        ...

    def put_cache(self, entry: CacheEntry) -> None:
        """Insert or replace a cache entry (by task and key)."""
        ...

    def get_cache(self, task: str, key: str) -> CacheEntry | None:
        """The cache entry of ``task`` under ``key``, or None."""
        ...

    def list_cache(self, task: str | None = None, limit: int | None = None) -> list[CacheEntry]:
        """Cache entries (of one task, if given), newest first; at most ``limit``."""
        ...

    def recent_cache_outputs(self, task: str, limit: int) -> list[tuple[str, str]]:
        """The keys and outputs (JSON text) of the ``limit`` most recent cache entries of ``task``."""
        ...

    def delete_cache(self, task: str | None = None) -> int:
        """Delete cache entries (of one task, if given); return how many."""
        ...

    def release_connection(self) -> None:
        """The calling thread is done with the store (a run's recorder, when its run ends): anything
        it holds open for this thread may go to the next thread."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def batch(items: Iterable[object], size: int) -> Iterable[list[object]]:
    """Split ``items`` into lists of at most ``size`` (for bounded transactions)."""
    chunk: list[object] = []
    for it in items:
        chunk.append(it)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
