"""Which action's context is current: the context variable alone, apart from the context's class
(:mod:`flyte_core.runtime.context`), so that calling a task outside a run, or defining one, does
not build the class (an attrs class, compiled at import: a cost on every cold start)."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flyte_core.runtime.context import TaskContext

#: The running action's context; None outside a task.
CURRENT: contextvars.ContextVar[TaskContext | None] = contextvars.ContextVar("flyte_task", default=None)


def current() -> TaskContext | None:
    """The running action's context, or None outside a task."""
    return CURRENT.get()
