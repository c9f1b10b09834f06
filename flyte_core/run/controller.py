"""The controller: turns task calls inside a run into actions.

For every call it binds and converts the inputs through the type engine, gives the action an id
in the run's tree (``a0``, ``a0.1``, ``a0.1.2``), hands attempts to the backend, applies retries,
backoff and deadlines, records every phase change, and converts the output back.

The attempt logic is written once, as a generator that yields what to do next (run an attempt,
sleep); a sync driver runs it in the calling thread and an async driver on the run's loop.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Coroutine, Mapping
from contextlib import AbstractContextManager
from typing import Any, NoReturn

import attrs

from flyte_core.errors.core import (
    BaseRuntimeError,
    FlyteUsageError,
    SyncTaskCallInAsyncContextError,
)
from flyte_core.run.backend import ActionOutcome, ActionSpec, Backend
from flyte_core.run.cache import task_version
from flyte_core.run.concurrency import ActionSlots
from flyte_core.run.direct import DirectPath, system_failure
from flyte_core.run.failures import TIMEOUT_CODES, raise_error
from flyte_core.run.memo import Hit, Reuse
from flyte_core.run.recorder import Recorder
from flyte_core.run.running import RunningActions
from flyte_core.run.settings import RunSettings, UnhonouredNotices
from flyte_core.run.siderecords import SideRecords
from flyte_core.run.steps import Sleep, Steps, Wait, drive_async, drive_sync
from flyte_core.runstore.records import ErrorInfo, Phase
from flyte_core.runtime import context
from flyte_core.runtime.loopthread import LoopThread
from flyte_core.task.template import TaskRef, TaskTemplate
from flyte_core.types.engine import TypeEngine
from flyte_core.types.transformer import ConversionContext

log = logging.getLogger("flyte")


@attrs.define
class _Call:
    """One task call on its way to becoming an action."""

    task: TaskTemplate[Any, Any]
    action: str
    parent: str | None
    inputs: dict[str, Any]
    group: str | None
    #: The caller's custom context (None: the run's, for the root action).
    custom_context: Mapping[str, str] | None = None
    #: The outputs the cache served it with, when it was served at once (see DirectPath._queued).
    served: Mapping[str, Any] | None = None


class Controller(DirectPath):
    """Drives the actions of one run on one backend. Thread-safe; one per run."""

    def __init__(
        self,
        *,
        run_name: str,
        backend: Backend,
        engine: TypeEngine,
        recorder: Recorder,
        loop: LoopThread,
        settings: RunSettings,
        conversion: ConversionContext,
        reuse: Reuse | None = None,
    ) -> None:
        self.run_name = run_name
        self.backend = backend
        self.engine = engine
        self.recorder = recorder
        self.loop = loop
        self.settings = settings
        self._conv = conversion
        self.reuse = reuse or Reuse(None, None, [])
        #: The actions driven on the loop and still running, by parent (to cancel leftovers).
        self.running = RunningActions()
        #: Whether the backend ran a sync call in the calling thread (None: no sync call yet).
        self._inline: bool | None = None
        #: Task object id -> whether its calls take the direct path (see _is_plain) and may be
        #: served from the cache; the task is held so its id is not reused.
        self._plain: dict[int, tuple[bool, bool, TaskTemplate[Any, Any]]] = {}
        #: Task object id -> (env vars, timeout, version, ref) for its ActionSpecs, computed once.
        self._consts: dict[int, tuple[dict[str, str], float | None, str, TaskRef, TaskTemplate[Any, Any]]] = {}
        self._counters: dict[str, itertools.count[int]] = {}
        self._counter_lock = threading.Lock()
        #: What the backend does not act on, said once per task and setting.
        self.unhonoured = UnhonouredNotices(backend.name, backend.honours)
        self.notices = self.unhonoured.notices
        #: Records of traced calls and durable values (no attempts, no backend).
        self.side = SideRecords(run_name, recorder, engine, conversion, self.reuse, self._next_id)
        #: ``max_action_concurrency``: how many children of one parent may run at once.
        self.slots = ActionSlots(settings.max_action_concurrency)

    # --- Dispatcher: calls from task code ----------------------------------------------------

    def call_sync(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        """A blocking call of ``task`` from a sync task body (runs inline when the backend can)."""
        # asyncio._get_running_loop: the public get_running_loop raises (slowly) in sync code, every call.
        if asyncio._get_running_loop() is not None:
            kind = "an async task" if task.is_async else "a sync task"
            raise SyncTaskCallInAsyncContextError(
                f"Task '{task.name}' is {kind} called without await from async code; "
                f"use 'await {task.short_name}.aio(...)'"
                + (" or 'await ...' on the call." if task.is_async else ".")
            )
        call = self._new_call(task, args, kwargs)
        if not task.is_async and self._is_plain(task):
            return self._output(call, self._run_plain(call))
        gen = self._lifecycle(call)
        if task.is_async:
            with self.backend.blocked():
                return self._output(call, self.loop.submit(self._drive_async(gen, call.action, call.parent)).result())
        return self._output(call, self._drive_sync(gen))

    def call_async(
        self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Coroutine[Any, Any, Any]:
        """An awaitable call of ``task`` (sync tasks run in the backend's pool)."""
        call = self._new_call(task, args, kwargs)  # bind errors surface at the call site
        if self._is_plain(task):
            async def direct() -> Any:
                return self._output(call, await self._run_plain_async(call))

            return direct()

        async def run() -> Any:
            outputs = await self._drive_async(self._lifecycle(call), call.action, call.parent)
            return self._output(call, outputs)

        return run()

    def trace_started(self, name: str) -> str:
        """Record the start of a ``@flyte.trace`` call as a child action of the current one."""
        return self.side.trace_started(self._parent(), name)

    def trace_finished(self, action: str, started: float, error: BaseException | None) -> None:
        """Record how a traced call ended."""
        self.side.trace_finished(action, error)

    def durable_value(self, parent: str, name: str, index: int, proposed: float) -> float:
        """See :meth:`flyte_core.run.siderecords.SideRecords.durable_value`."""
        return self.side.durable_value(parent, name, index, proposed)

    def waiting(self) -> AbstractContextManager[None]:
        """The backend's :meth:`~flyte_core.run.backend.Backend.blocked` (a sync body waits)."""
        return self.backend.blocked()

    # --- calls from other processes (worker processes, containers) -----------------------------

    def trace_started_in(self, parent: str, name: str) -> str:
        """:meth:`trace_started` for a traced call made in another process."""
        return self.side.trace_started(parent, name)

    async def call_encoded(
        self, task: TaskTemplate[Any, Any], parent: str, inputs: Mapping[str, Any], group: str | None,
        custom_context: Mapping[str, str] | None = None,
    ) -> Mapping[str, Any]:
        """Run a child of ``parent`` whose inputs are already literals (a call that arrived over a
        channel from a task body in another process, with the caller's custom context); returns
        output literals or raises the child's ``flyte.errors`` exception (with ``.info``)."""
        call = _Call(task, self._next_id(parent), parent, dict(inputs), group,
                     dict(custom_context) if custom_context is not None else None)
        if self._is_plain(task):  # no retry, timeout or recovery: the direct path, as for a call in process
            return await self._run_plain_async(call)
        return await self._drive_async(self._lifecycle(call), call.action, parent)

    # --- the root action ---------------------------------------------------------------------

    def start_root(self, task: TaskTemplate[Any, Any], inputs: dict[str, Any]) -> Coroutine[Any, Any, Any]:
        """The coroutine that runs the run's top-level action from already-encoded inputs."""
        call = _Call(task, "a0", None, inputs, None)
        return self._drive_async(self._lifecycle(call), call.action, None)

    def runs_inline(self, task: TaskTemplate[Any, Any]) -> bool | None:
        """Whether a sync call of ``task`` from a sync body runs in the calling thread (None: not
        known before the first sync call of the run)."""
        if task.is_async:
            return False
        return self._inline

    # --- internals ---------------------------------------------------------------------------

    def _parent(self) -> str:
        ctx = context.current()
        return ctx.action.name if ctx is not None else "a0"

    def _next_id(self, parent: str) -> str:
        # Ids follow call order within a parent, so a re-run gives the same calls the same ids.
        counter = self._counters.get(parent)
        if counter is None:
            with self._counter_lock:
                counter = self._counters.setdefault(parent, itertools.count(1))
        return f"{parent}.{next(counter)}"  # itertools.count: next() is atomic

    def _new_call(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> _Call:
        parent_ctx = context.current()
        bound = task.interface.bind(task.name, args, kwargs)
        inputs = self.engine.encode_inputs(task.name, task.interface, bound, self._conv)
        if parent_ctx is None:
            return _Call(task, self._next_id("a0"), "a0", inputs, None)
        parent = parent_ctx.action.name
        return _Call(task, self._next_id(parent), parent, inputs, parent_ctx.group_data,
                     dict(parent_ctx.custom_context))

    def _output(self, call: _Call, outputs: Mapping[str, Any]) -> Any:
        return self.engine.decode_output(call.task.name, call.task.interface, outputs, self._conv)

    def _task_consts(self, task: TaskTemplate[Any, Any]) -> tuple[dict[str, str], float | None, str, TaskRef]:
        consts = self._consts.get(id(task))
        if consts is None:
            env_vars = {**(task.env.env_vars or {}), **self.settings.env_vars}
            timeout = task.timeout.runtime_seconds if task.timeout is not None else None
            consts = self._consts[id(task)] = (env_vars, timeout, self.settings.version or task_version(task),
                                               task.ref, task)
        return consts[0], consts[1], consts[2], consts[3]

    def _spec(self, call: _Call, attempt: int) -> ActionSpec:
        # Positional arguments, in the classes' field order: this runs for every attempt.
        task, settings = call.task, self.settings
        env_vars, timeout, version, ref = self._task_consts(task)
        ctx = context.TaskContext(
            context.ActionID(call.action, self.run_name), attempt, task.name, "local", self.backend.name,
            settings.raw_data_path, settings.run_base_dir,
            # The group holds this call, not the calls its task makes (Flyte 2: a child starts ungrouped).
            None,
            call.custom_context if call.custom_context is not None else settings.custom_context,
            settings.env_vars, self, version, settings.started_at, settings.disable_run_cache,
            settings.recovered_run_dirs,
        )
        return ActionSpec(self.run_name, call.action, call.parent, attempt, task.name, ref, call.inputs,
                          settings.code_root, timeout, env_vars, ctx, task, settings.plugins)

    def _lifecycle(self, call: _Call) -> Steps:
        """The attempts of one action: yields specs to run and sleeps; returns output literals."""
        task, rec = call.task, self.recorder
        self.unhonoured.check(task)
        created = time.time()
        rec.queued(self.run_name, call.action, call.parent, task.name, call.group, created, call.inputs)
        hit = self.reuse.recovered(call.action, task, call.inputs)
        claim = None
        if hit is None:
            claim = self.reuse.claim(task, call.inputs)
            hit = self.reuse.cached(claim) if claim is not None else None
            if hit is None and claim is not None and claim.wait is not None:
                waited = yield Wait(claim.wait)  # an identical call is running: share its result
                if waited is not None:
                    hit = Hit(waited, cache_hit=True)
                else:  # it failed: this call runs (and caches) on its own
                    claim = self.reuse.claim(task, call.inputs)
        if hit is not None:
            now = time.time()
            how = f"recovered from {hit.recovered_from}" if hit.recovered_from else "cache hit"
            rec.update_action(call.action, Phase.SUCCEEDED, 0, message=how, started_at=now, ended_at=now,
                              outputs=dict(hit.outputs), cache_hit=hit.cache_hit,
                              recovered_from=hit.recovered_from)
            self.reuse.release(claim, hit.outputs)
            return hit.outputs
        try:
            outputs = yield from self._attempts(call, created)
        except BaseException:
            self.reuse.finish(claim, None, self.run_name, call.action)
            raise
        finally:
            self._cancel_leftovers(call.action)
        self.reuse.finish(claim, outputs, self.run_name, call.action)
        return outputs

    def _fail(self, call: _Call, attempt: int, error: ErrorInfo, retries: int) -> NoReturn:
        """Record the action's final failure and raise it as the task's exception."""
        phase = Phase.TIMED_OUT if error.code in TIMEOUT_CODES else Phase.FAILED
        if error.action is None:
            error = attrs.evolve(error, action=call.action)
        if error.task is None and error.action == call.action:
            error = attrs.evolve(error, task=call.task.name)  # so a parent failing through it names this task
        self.recorder.update_action(call.action, phase, attempt, ended_at=time.time(), error=error)
        raise_error(error, call.task.name, retries_exhausted=retries > 0 and attempt > retries)

    def _attempts(self, call: _Call, created: float) -> Steps:
        """Run attempts until one succeeds or retries, deadline or a final error stop it."""
        task, rec = call.task, self.recorder
        retries = task.retries.count
        deadline = task.timeout.deadline_seconds if task.timeout is not None else None
        error: ErrorInfo | None = None
        for attempt in range(1, retries + 2):
            started = time.time()
            rec.started(call.action, attempt, started)
            try:
                outcome = yield self._spec(call, attempt)
            except GeneratorExit:  # the driver was cancelled: abort, Ctrl-C, or a failed parent
                rec.update_action(call.action, Phase.ABORTED, attempt, ended_at=time.time())
                raise
            assert outcome is not None
            if outcome.error is None:
                outputs = dict(outcome.outputs or {})
                rec.succeeded(call.action, attempt, time.time(), outputs)
                return outputs
            error = outcome.error
            out_of_time = deadline is not None and time.time() - created >= deadline
            if out_of_time and not outcome.final and attempt <= retries:  # retries left, but no time
                error = attrs.evolve(error, code="DeadlineExceededError", kind="user", message=(
                    f"its deadline of {deadline:g}s passed after attempt {attempt}, so it was not retried; "
                    f"that attempt failed with {error.code}: {error.message}"))
            if outcome.final or attempt > retries or out_of_time:
                break
            delay = task.retries.delay(attempt - 1)
            rec.update_action(call.action, Phase.QUEUED, attempt,
                              message=f"attempt {attempt} failed ({error.code}); retrying in {delay:g}s",
                              error=error)
            if delay > 0:
                yield Sleep(delay)
        assert error is not None
        self._fail(call, attempt, error, retries)

    def _drive_sync(self, gen: Steps) -> Mapping[str, Any]:
        return drive_sync(gen, self.backend, self.loop, self._execute_inline, self._execute)

    async def _drive_async(self, gen: Steps, action: str, parent: str | None) -> Mapping[str, Any]:
        self.running.started(action, parent)
        try:
            return await drive_async(gen, self._execute)
        finally:
            self.running.ended(action, parent)

    def _execute_inline(self, spec: ActionSpec) -> ActionOutcome | None:
        try:
            with self.slots.slot(spec.action):
                outcome = self.backend.execute_inline(spec)
            self._inline = outcome is not None
            return outcome
        except (FlyteUsageError, BaseRuntimeError):
            raise
        except Exception as e:
            return system_failure(spec, e)

    def _cancel_leftovers(self, action: str) -> None:
        """Cancel descendants of a finished action that are still running (a failed parent, or
        children started and never awaited): nothing outlives its parent."""
        self.running.cancel_descendants(action, self.loop.loop)

    async def abort(self) -> None:
        """Cancel every action still running (Ctrl-C, ``flyte runs abort``); each records ABORTED."""
        self.running.cancel_all()

    async def _execute(self, spec: ActionSpec) -> ActionOutcome:
        try:
            async with self.slots.aslot(spec.action):
                return await self.backend.execute(spec)
        except (asyncio.CancelledError, FlyteUsageError, BaseRuntimeError):
            raise
        except Exception as e:  # the backend itself broke: a system error, retried like any other
            return system_failure(spec, e)
