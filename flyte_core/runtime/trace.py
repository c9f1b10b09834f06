"""``@flyte.trace``: record a helper function's calls inside a task as actions of their own."""

from __future__ import annotations

import contextlib
import functools
import inspect
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from flyte_core.errors.core import TraceDoesNotAllowNestedTasksError
from flyte_core.runtime import context

if TYPE_CHECKING:
    from flyte_core.runtime.loopthread import LoopThread

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

    def trace_started(self, name: str) -> None:
        """A traced function called inside another runs as part of it, unrecorded."""
        return None

    def trace_finished(self, action: str, started: float, error: BaseException | None) -> None:
        """Nothing was recorded (see :meth:`trace_started`)."""

    def durable_value(self, parent: str, name: str, index: int, proposed: float) -> float:
        """Durable values inside a traced function are not recorded: the value proposed."""
        return proposed

    def runs_inline(self, task: Any) -> bool | None:
        """Refused: a traced function cannot map tasks."""
        return self.loop is None  # raises

    @property
    def loop(self) -> LoopThread:
        """Refused: a traced function cannot map tasks."""
        raise TraceDoesNotAllowNestedTasksError(
            f"flyte.map was called inside traced function '{self.name}'; call it from the task instead.")

    def waiting(self) -> AbstractContextManager[None]:
        """Nothing to hold."""
        return contextlib.nullcontext()


def trace(func: F) -> F:
    """Record each call of ``func`` made inside a task (timing, failure) as a child action."""
    name = func.__qualname__

    def begin() -> tuple[Any, Any, str | None]:
        ctx = context.current()
        if ctx is None or ctx.dispatcher is None:
            return None, None, None
        action = ctx.dispatcher.trace_started(name)
        if action is None:
            return None, None, None
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
