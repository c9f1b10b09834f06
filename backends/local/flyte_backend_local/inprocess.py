"""Actions in this process: async task bodies on the run's event loop, sync ones in threads.

Sync bodies are bounded by ``max_workers`` running at once. A sync body that waits for its
children gives its slot back while it waits (``blocked``), so nested fan-out cannot deadlock the
pool; a sync child called from a sync body runs inline in the caller's (blocked) thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from flyte_backend_local.options import InProcessOptions
from flyte_core.extend import (
    ActionOutcome,
    ActionSpec,
    BackendRun,
    ErrorInfo,
    LineSink,
    capture_output,
    output_sink,
    run_task_async,
    run_task_sync,
)

log = logging.getLogger("flyte")


class _TimedOut(Exception):
    """Raised inside a sync task body's thread when its timeout passes."""


class _Aborted(BaseException):
    """Raised inside a sync task body's thread when its action is aborted.

    A BaseException, so task code's ``except Exception`` and the runtime do not swallow it.
    """


def _raise_in(thread_id: int, exc: type[BaseException]) -> None:
    """Deliver ``exc`` to a thread at its next bytecode (a thread cannot be killed in Python)."""
    import ctypes  # only timeouts and aborts need it

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc))


class InProcessBackend:
    """The ``local`` backend."""

    name = "local"
    honours = frozenset({"timeout", "report"})

    def __init__(self, options: Mapping[str, Any]) -> None:
        opts = InProcessOptions.parse(options)
        self.max_workers = opts.max_workers
        self._slots = threading.BoundedSemaphore(self.max_workers)
        self._held = threading.local()
        self.abort_grace = opts.abort_grace
        self._pool: ThreadPoolExecutor | None = None
        #: action -> thread running its sync body (to interrupt it on abort).
        self._threads: dict[str, int] = {}
        self._run: BackendRun | None = None
        self._capture: Any = None

    async def start(self, run: BackendRun) -> None:
        """Create the thread pool and start capturing what task bodies print."""
        self._run = run
        # Threads waiting on children do not hold a slot, so the pool itself may grow past
        # max_workers; the semaphore is what bounds sync bodies running at once.
        self._pool = ThreadPoolExecutor(max_workers=256, thread_name_prefix=f"flyte-{run.run_name}")
        self._capture = capture_output()
        self._capture.__enter__()

    async def execute(self, spec: ActionSpec) -> ActionOutcome:
        """Run an attempt: async bodies here on the loop, sync ones in the pool."""
        assert self._run is not None and self._pool is not None and spec.task is not None
        if spec.task.is_async:
            coro = run_task_async(spec.task, dict(spec.inputs), spec.context, self._run.engine, self._run.conversion,
                                  self._run.task_kinds)
            if not spec.timeout:  # in this asyncio task: no extra coroutine around the body
                lines = self._sink_for(spec)
                try:
                    with output_sink(lines):
                        return await coro
                finally:
                    lines.flush()
            try:
                return await asyncio.wait_for(self._with_sink(spec, coro), spec.timeout)
            except TimeoutError:
                return _timeout(spec)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, self._run_in_slot, spec)
        except asyncio.CancelledError:
            thread = self._threads.get(spec.action)
            if thread is not None:
                _raise_in(thread, _Aborted)
            raise

    def execute_inline(self, spec: ActionSpec) -> ActionOutcome | None:
        """Run a sync body in the calling thread, which is blocked on it anyway."""
        if spec.task is None or spec.task.is_async:
            return None
        return self._run_sync(spec)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        """Lend this thread's slot to other bodies while it waits for children."""
        held = getattr(self._held, "slot", False)
        if held:
            self._held.slot = False
            self._slots.release()
        try:
            yield
        finally:
            if held:
                self._slots.acquire()
                self._held.slot = True

    async def close(self) -> None:
        """Stop sync bodies still running (aborted runs), wait for the pool's threads for up to
        ``abort_grace`` seconds, and stop capturing output."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            for thread in set(self._threads.values()):
                _raise_in(thread, _Aborted)
            # A daemon thread waits for the pool, so a body stuck in a C call cannot hold up the run;
            # it wakes this coroutine the moment the pool is down (no polling delay on every run).
            loop = asyncio.get_running_loop()
            down: asyncio.Future[None] = loop.create_future()

            def wake() -> None:
                if not down.done():
                    down.set_result(None)

            def shut() -> None:
                pool.shutdown(True)
                try:
                    loop.call_soon_threadsafe(wake)
                except RuntimeError:  # the loop is gone: nobody waits any more
                    pass

            waiter = threading.Thread(target=shut, daemon=True)
            waiter.start()
            try:
                await asyncio.wait_for(asyncio.shield(down), self.abort_grace)
                waiter.join()  # it only has to return from waking this loop: nothing outlives the run
            except TimeoutError:
                pass
            if waiter.is_alive() and not down.done():
                log.warning("Task bodies of actions %s are still inside a blocking call after the run "
                            "ended; they stop when it returns. Use the local-process backend to have "
                            "aborted tasks killed at once.", ", ".join(sorted(self._threads)))
        if self._capture is not None:
            self._capture.__exit__(None, None, None)
            self._capture = None

    # --- internals ---------------------------------------------------------------------------

    def _run_in_slot(self, spec: ActionSpec) -> ActionOutcome:
        self._slots.acquire()
        self._held.slot = True
        try:
            return self._run_sync(spec)
        finally:
            self._held.slot = False
            self._slots.release()

    def _run_sync(self, spec: ActionSpec) -> ActionOutcome:
        assert self._run is not None and spec.task is not None
        timer = _arm_timeout(spec.timeout) if spec.timeout else None
        lines = self._sink_for(spec)
        self._threads[spec.action] = threading.get_ident()
        try:
            with output_sink(lines):
                outcome = run_task_sync(spec.task, dict(spec.inputs), spec.context, self._run.engine,
                                           self._run.conversion, self._run.task_kinds)
        except _TimedOut:
            return _timeout(spec)
        finally:
            self._threads.pop(spec.action, None)
            if timer is not None:
                timer.cancel()
            lines.flush()
        if timer is not None and timer.fired and outcome.error is not None:
            return _timeout(spec)
        return outcome

    async def _with_sink(self, spec: ActionSpec, coro: Any) -> ActionOutcome:
        lines = self._sink_for(spec)
        try:
            with output_sink(lines):
                return await coro  # type: ignore[no-any-return]
        finally:
            lines.flush()

    def _sink_for(self, spec: ActionSpec) -> _AttemptLines:
        assert self._run is not None
        return _AttemptLines(self._run.log, spec.action, spec.attempt)


class _AttemptLines:
    """Where one attempt's output goes: whole lines to the run's log. The line buffer is made on the
    first write, so a body that prints nothing (most) costs neither a buffer nor a flush."""

    __slots__ = ("_action", "_attempt", "_lines", "_log")

    def __init__(self, log: Any, action: str, attempt: int) -> None:
        self._log, self._action, self._attempt = log, action, attempt
        self._lines: LineSink | None = None

    def __call__(self, stream: str, text: str) -> None:
        lines = self._lines
        if lines is None:
            log, action, attempt = self._log, self._action, self._attempt
            lines = self._lines = LineSink(lambda s, t: log(action, attempt, s, t))
        lines(stream, text)

    def flush(self) -> None:
        """Pass on an unterminated last line, if anything was written."""
        if self._lines is not None:
            self._lines.flush()


class _Timer:
    """Raises :class:`_TimedOut` in the armed thread when the timeout passes.

    A thread cannot be killed in Python; the exception is delivered at the body's next bytecode,
    so a body stuck inside one long C call stops when that call returns. The ``local-process``
    backend kills the worker instead.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._target = threading.get_ident()
        self._t = threading.Timer(seconds, self._fire)
        self._t.daemon = True
        self._t.start()

    def _fire(self) -> None:
        self.fired = True
        _raise_in(self._target, _TimedOut)

    def cancel(self) -> None:
        self._t.cancel()
        self._t.join()


def _arm_timeout(seconds: float) -> _Timer:
    return _Timer(seconds)


def _timeout(spec: ActionSpec) -> ActionOutcome:
    return ActionOutcome(error=ErrorInfo(
        "TaskTimeoutError", "user",
        f"Task '{spec.task_name}' did not finish within its timeout of {spec.timeout:g}s.",
        action=spec.action,
    ))
