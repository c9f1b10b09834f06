"""The dispatcher: what a running task body reaches through its context to start child actions,
record traced calls and durable values, and drive async helpers from sync code.

The run's controller implements it in the process that drives the run; a worker process's channel
client implements it by asking that controller over the channel. Task-facing code
(``flyte.map``, ``@flyte.trace``, ``flyte.durable``, calling a task) uses only these members.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from flyte_core.runtime.loopthread import LoopThread
    from flyte_core.task.template import TaskTemplate


class Dispatcher(Protocol):
    """Everything task code asks of the run while it runs (see the module doc)."""

    def call_sync(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        """Run a child action from a sync task body and return its value."""
        ...

    def call_async(
        self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Coroutine[Any, Any, Any]:
        """Return an awaitable that runs a child action from an async task body."""
        ...

    def trace_started(self, name: str) -> str | None:
        """Record the start of a ``@flyte.trace`` call as a child action and return its id; None
        when this dispatcher does not record traced calls (the call then just runs)."""
        ...

    def trace_finished(self, action: str, started: float, error: BaseException | None) -> None:
        """Record how the traced call ``action`` ended."""
        ...

    def durable_value(self, parent: str, name: str, index: int, proposed: float) -> float:
        """The value of call ``index`` of ``flyte.durable.<name>`` in an attempt of ``parent``:
        one recorded earlier (by an earlier attempt or a recovered run), else ``proposed``, recorded."""
        ...

    def runs_inline(self, task: TaskTemplate[Any, Any]) -> bool | None:
        """True when :meth:`call_sync` of ``task`` runs it in the calling thread (``flyte.map`` then
        runs a sync task's items in threads of its own instead of through :attr:`loop`); None
        while not known (before the run's first sync call)."""
        ...

    @property
    def loop(self) -> LoopThread:
        """The event loop thread sync task bodies drive async helpers on (``flyte.map``)."""
        ...

    def waiting(self) -> AbstractContextManager[None]:
        """Held by a sync task body while it blocks on child actions, so the backend may lend the
        body's slot to them."""
        ...
