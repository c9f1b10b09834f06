"""The actions of a run driven on its event loop and still running, indexed by parent.

Finding what a finished action left running (children started and never awaited, or the
subtree of a failed parent) walks only its own children, never every running action, so a
``flyte.map`` of n items stays linear; ``abort`` cancels them all.
"""

from __future__ import annotations

import asyncio
from typing import Any


class RunningActions:
    """Action id -> the asyncio task driving it, and parent -> its running children."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._children: dict[str | None, set[str]] = {}

    def started(self, action: str, parent: str | None) -> bool:
        """Track the current asyncio task as the driver of ``action``; False outside a task."""
        me = asyncio.current_task()
        if me is None:
            return False
        self._tasks[action] = me
        self._children.setdefault(parent, set()).add(action)
        return True

    def ended(self, action: str, parent: str | None) -> None:
        """Stop tracking ``action``."""
        if self._tasks.pop(action, None) is not None:
            siblings = self._children.get(parent)
            if siblings is not None:
                siblings.discard(action)
                if not siblings:
                    del self._children[parent]

    def has_children(self, action: str) -> bool:
        """Whether ``action`` has children still running on the loop."""
        return action in self._children

    def cancel_descendants(self, action: str, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel (from any thread) every running descendant of ``action``."""
        pending = list(self._children.get(action, ()))
        while pending:
            aid = pending.pop()
            pending.extend(self._children.get(aid, ()))
            t = self._tasks.get(aid)
            if t is not None and not t.done():
                loop.call_soon_threadsafe(t.cancel)

    def cancel_all(self) -> None:
        """Cancel every running action (called on the loop)."""
        for t in list(self._tasks.values()):
            t.cancel()
