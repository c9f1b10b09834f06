"""Where the running action is known: a context variable set while a task body executes.

Outside a run it is unset, and calling a task is calling its function (as the seed says).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from flyte_core.controller import Dispatcher


@attrs.frozen
class ActionID:
    """Identifies one action: its name (a path in the run's action tree) and its run."""

    name: str
    run_name: str
    project: str = "default"
    domain: str = "development"
    org: str = "local"


@attrs.frozen
class TaskContext:
    """What ``flyte.ctx()`` returns inside a task: the action, its attempt, and run-wide settings."""

    action: ActionID
    attempt: int
    task_name: str
    mode: str
    backend: str
    raw_data_path: str
    run_base_dir: str
    group_data: str | None = None
    custom_context: Mapping[str, str] = attrs.field(factory=dict)
    env_vars: Mapping[str, str] = attrs.field(factory=dict)
    #: The object that turns nested task calls into child actions (in-process or over a channel).
    dispatcher: Dispatcher | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def run_name(self) -> str:
        """The run this action belongs to."""
        return self.action.run_name

    def with_group(self, group: str | None) -> TaskContext:
        """A copy whose nested calls are grouped under ``group``."""
        return attrs.evolve(self, group_data=group)


_current: contextvars.ContextVar[TaskContext | None] = contextvars.ContextVar("flyte_task", default=None)


def current() -> TaskContext | None:
    """The running action's context, or None outside a task."""
    return _current.get()


@contextmanager
def use(ctx: TaskContext | None) -> Iterator[None]:
    """Make ``ctx`` current for the duration of the block."""
    token = _current.set(ctx)
    try:
        yield
    finally:
        _current.reset(token)


def set_current(ctx: TaskContext | None) -> contextvars.Token[TaskContext | None]:
    """Set the current context; return the token to reset it with :func:`reset`."""
    return _current.set(ctx)


def reset(token: contextvars.Token[TaskContext | None]) -> None:
    """Undo :func:`set_current`."""
    _current.reset(token)


def custom_context(**kwargs: Any) -> Any:
    """Flyte 2's ``flyte.custom_context``: add key/values visible to nested calls via ``flyte.ctx()``."""
    ctx = current()

    @contextmanager
    def _cm() -> Iterator[None]:
        if ctx is None:
            yield
            return
        merged = {**ctx.custom_context, **{k: str(v) for k, v in kwargs.items()}}
        with use(attrs.evolve(ctx, custom_context=merged)):
            yield

    return _cm()
