"""``max_action_concurrency``: at most N child actions of one parent run at the same time.

The limit is counted per parent action (the fan-out of a ``flyte.map``, an ``asyncio.gather`` or a
loop of calls), not over the whole run: a parent waiting for its children holds no slot its
children need, so nesting at any depth cannot deadlock. The root action is never held back.
Retries take a slot again for each attempt.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager


class ActionSlots:
    """Per-parent slots for running actions; ``limit`` None or 0 means no limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit or 0
        self._sems: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    def _sem(self, action: str) -> threading.BoundedSemaphore | None:
        parent, dot, _ = action.rpartition(".")
        if not self.limit or not dot:
            return None
        with self._lock:
            sem = self._sems.get(parent)
            if sem is None:
                sem = self._sems[parent] = threading.BoundedSemaphore(self.limit)
            return sem

    @contextmanager
    def slot(self, action: str) -> Iterator[None]:
        """Hold a slot of ``action``'s parent while the block runs (blocking this thread to get one)."""
        sem = self._sem(action)
        if sem is None:
            yield
            return
        sem.acquire()
        try:
            yield
        finally:
            sem.release()

    @asynccontextmanager
    async def aslot(self, action: str) -> AsyncIterator[None]:
        """:meth:`slot` for coroutines: waiting for a slot does not block the event loop."""
        sem = self._sem(action)
        if sem is None:
            yield
            return
        while not sem.acquire(blocking=False):
            await asyncio.sleep(0.02)
        try:
            yield
        finally:
            sem.release()
