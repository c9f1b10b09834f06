"""``flyte.group``: name a set of child actions so displays show them together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flyte_core.runtime import context


@contextmanager
def group(name: str) -> Iterator[None]:
    """Child actions started inside the block belong to group ``name``; a no-op outside a task."""
    ctx = context.current()
    if ctx is None:
        yield
        return
    with context.use(ctx.with_group(name)):
        yield
