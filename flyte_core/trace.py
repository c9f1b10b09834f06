"""``@flyte.trace``: record a helper function's calls inside a task as actions of their own."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from flyte_core import context
from flyte_core.errors import TraceDoesNotAllowNestedTasksError

F = TypeVar("F", bound=Callable[..., Any])


class _NoTasks:
    """Stands in for the dispatcher inside a traced function: task calls are not allowed there."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _refuse(self, task: Any, *_: Any) -> Any:
        raise TraceDoesNotAllowNestedTasksError(
            f"Task '{task.name}' was called inside traced function '{self.name}'; call it from the task instead."
        )

    call_sync = _refuse
    call_async = _refuse


def trace(func: F) -> F:
    """Record each call of ``func`` made inside a task (timing, failure) as a child action."""
    name = func.__qualname__

    def begin() -> tuple[Any, Any, str | None]:
        ctx = context.current()
        if ctx is None or ctx.dispatcher is None or not hasattr(ctx.dispatcher, "trace_started"):
            return None, None, None
        action = ctx.dispatcher.trace_started(name)
        inner = attrs.evolve(ctx, dispatcher=_NoTasks(name))
        return ctx, inner, action

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            ctx, inner, action = begin()
            if ctx is None:
                return await func(*args, **kwargs)
            start = time.time()
            try:
                with context.use(inner):
                    result = await func(*args, **kwargs)
            except Exception as e:
                ctx.dispatcher.trace_finished(action, start, e)
                raise
            ctx.dispatcher.trace_finished(action, start, None)
            return result

        return awrapper  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx, inner, action = begin()
        if ctx is None:
            return func(*args, **kwargs)
        start = time.time()
        try:
            with context.use(inner):
                result = func(*args, **kwargs)
        except Exception as e:
            ctx.dispatcher.trace_finished(action, start, e)
            raise
        ctx.dispatcher.trace_finished(action, start, None)
        return result

    return wrapper  # type: ignore[return-value]
