"""The backend protocol: how the controller asks a backend to run one attempt of one action.

A backend plugin registers a factory under a name (``flyte_register_backends``); the session
calls the factory once per run, ``start()`` it, sends it actions, and ``close()`` it at the end,
however the run ended.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from flyte_core.plugins.manager import PluginRefs
from flyte_core.run.backend_registry import BackendFactory as BackendFactory
from flyte_core.run.backend_registry import BackendRegistry as BackendRegistry
from flyte_core.run.outcome import ActionOutcome as ActionOutcome
from flyte_core.task.kinds import TaskKindRegistry

if TYPE_CHECKING:
    from flyte_core.plugins.manager import PluginSet
    from flyte_core.run.settings import RunSettings
    from flyte_core.runtime.context import TaskContext
    from flyte_core.task.template import TaskRef, TaskTemplate
    from flyte_core.types.engine import TypeEngine
    from flyte_core.types.transformer import ConversionContext


@attrs.define
class ActionSpec:
    """Everything a backend needs to run one attempt of one action. Treat it as read-only: it is
    not frozen only because it is made for every attempt, and a frozen attrs class sets each
    field through ``object.__setattr__`` (four times the cost).

    ``inputs`` is the literal map; ``task`` is the live task object (usable by in-process
    backends), ``task_ref`` finds it again in another process under ``code_root``.
    ``context`` is the :class:`TaskContext` the task body must see (its dispatcher is the
    in-process controller; out-of-process backends replace it with a channel client).
    """

    run_name: str
    action: str
    parent: str | None
    attempt: int
    task_name: str
    task_ref: TaskRef
    inputs: Mapping[str, Any]
    code_root: str
    timeout: float | None
    env_vars: Mapping[str, str]
    context: TaskContext
    task: TaskTemplate[Any, Any] | None = attrs.field(default=None, eq=False, repr=False)
    #: The session's plugins, for workers to load the same ones (see :func:`worker_spec`).
    plugins: PluginRefs = attrs.field(factory=PluginRefs)


class RunController(Protocol):
    """A run's controller, as backends that run task bodies in other processes reach it: a
    :class:`~flyte_core.worker.channel_server.ChannelServer` relays the bodies' nested calls, traced calls and
    ``flyte.durable`` values to it."""

    async def call_encoded(self, task: TaskTemplate[Any, Any], parent: str, inputs: Mapping[str, Any],
                           group: str | None, custom_context: Mapping[str, str] | None = None) -> Mapping[str, Any]:
        """Run ``task`` as a child action of ``parent`` with encoded ``inputs``; its output literals."""
        ...

    def trace_started_in(self, parent: str, name: str) -> str:
        """Record that a ``@flyte.trace`` call named ``name`` started in ``parent``; its action name."""
        ...

    def trace_finished(self, action: str, started: float, error: BaseException | None) -> None:
        """Record how the traced call ``action`` ended."""
        ...

    def durable_value(self, parent: str, name: str, index: int, proposed: float) -> float:
        """Call ``index`` of ``flyte.durable.<name>`` in ``parent``: the recorded value, else ``proposed``."""
        ...


@attrs.frozen
class BackendRun:
    """What a backend gets when a run starts: the run's name and settings, the type engine and
    data store to convert literals with, and where to send what tasks print."""

    run_name: str
    settings: RunSettings
    engine: TypeEngine
    conversion: ConversionContext
    log: Callable[[str, int, str, str], None]
    #: The run's controller: out-of-process backends serve their task bodies' nested calls with
    #: ``controller.call_encoded`` (see flyte_core.worker.channel_server).
    controller: RunController | None = None
    #: Runners for tasks with a ``plugin_config`` (pass to ``runtime.run_sync``/``run_async``).
    task_kinds: TaskKindRegistry | None = None
    #: The session's plugins: e.g. ``plugins.hook.flyte_secret_value``, ``image_builders(plugins)``.
    plugins: PluginSet | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)
    #: The run store's key (:func:`~flyte_core.runstore.key.run_store_key`). A run's name is unique
    #: only within its store: label what you create with both, and find, stop and clean up only
    #: what carries both, so that a run of the same name from another store is never touched.
    store: str = ""


@runtime_checkable
class Backend(Protocol):
    """Runs actions somewhere: this process, a worker process, a container, a pod."""

    #: Registry name, e.g. "local".
    name: str
    #: Task settings this backend acts on (e.g. "timeout", "resources", "image"); the controller
    #: reports every other setting a task uses once per run instead of dropping it silently.
    honours: frozenset[str]

    async def start(self, run: BackendRun) -> None:
        """Prepare for a run (start pools, connect to an engine)."""
        ...

    async def execute(self, spec: ActionSpec) -> ActionOutcome:
        """Run one attempt and return its outcome; enforce ``spec.timeout``; on cancellation,
        stop the attempt and leave nothing running."""
        ...

    def execute_inline(self, spec: ActionSpec) -> ActionOutcome | None:
        """Run a sync task's attempt in the calling (blocked) thread, or return None when this
        backend cannot, in which case the controller falls back to :meth:`execute`."""
        ...

    def blocked(self) -> AbstractContextManager[None]:
        """Entered while a sync task body in this process waits for child actions, so a backend
        that bounds concurrent task bodies can lend the waiting thread's slot to the children."""
        ...

    async def close(self) -> None:
        """Stop everything this run started; called however the run ended."""
        ...
