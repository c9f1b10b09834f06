"""Drives one run from start to end: its loop thread, recorder, controller and backend, the
heartbeat and abort watch, and how the run ends (succeeded, failed, timed out, aborted)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

from flyte_core.errors.core import RunAbortedError
from flyte_core.run.backend import Backend, BackendRun
from flyte_core.run.collector import fewer_collections
from flyte_core.run.controller import Controller
from flyte_core.run.liveness import HEARTBEAT_SECONDS
from flyte_core.run.memo import Reuse
from flyte_core.run.observers import RunObserver
from flyte_core.run.recorder import Recorder
from flyte_core.run.settings import RunSettings
from flyte_core.runstore.records import ErrorInfo, Phase, RunRecord
from flyte_core.runtime.loopthread import LoopThread
from flyte_core.task.template import TaskTemplate

if TYPE_CHECKING:
    from flyte_core.run.session import Session

_END_PHASES = {"TaskTimeoutError": Phase.TIMED_OUT, "RunAbortedError": Phase.ABORTED}


class RunDriver:
    """One run's moving parts, alive from :meth:`drive` until it returns; nothing outlives it."""

    def __init__(self, session: Session, record: RunRecord, task: TaskTemplate[Any, Any], inputs: dict[str, Any],
                 backend: Backend, settings: RunSettings, reuse: Reuse, observers: list[RunObserver]) -> None:
        self.session = session
        self.name = record.name
        self.task = task
        self.inputs = inputs
        self.backend = backend
        self.recorder = Recorder(session.runs, session.plugins.hook, observers, record)
        if reuse.cache is not None:  # new entries are indexed by the run's writer, with their actions
            reuse.cache.index = self.recorder.cache_entry
        self.loop = LoopThread(f"flyte-run-{record.name}")
        self.controller = Controller(run_name=record.name, backend=backend, engine=session.engine,
                                     recorder=self.recorder, loop=self.loop, settings=settings,
                                     conversion=session.conversion(record.name), reuse=reuse)
        self.backend_run = BackendRun(record.name, settings, session.engine, session.conversion(record.name),
                                      self.recorder.log, self.controller, session.task_kinds, session.plugins,
                                      store=session.store_key)
        self._aborted = threading.Event()

    @property
    def notices(self) -> list[str]:
        """Settings some task used that the backend does not act on."""
        return self.controller.notices

    def drive(self) -> BaseException | None:
        """Run the top-level action to its end and record how the run ended; return the error that
        ended it (None when it succeeded). Every thread and loop of the run is stopped on return."""
        with fewer_collections():
            return self._drive()

    def _drive(self) -> BaseException | None:
        self.recorder.update_run(phase=Phase.RUNNING, started_at=time.time())
        fut = self.loop.submit(self._main())
        error: BaseException | None = None
        try:
            outputs = _wait(fut)
            self.recorder.update_run(phase=Phase.SUCCEEDED, ended_at=time.time(), outputs=dict(outputs))
        except KeyboardInterrupt as e:
            # Cancel every running action (each records ABORTED), then wait for the backend to stop
            # what it started, before the recorder closes.
            _wait_quietly(self.loop.submit(self.controller.abort()))
            _wait_quietly(fut)
            self.recorder.update_run(phase=Phase.ABORTED, ended_at=time.time(),
                                     error=ErrorInfo("RunAbortedError", "user", "Interrupted (Ctrl-C).", action="a0"))
            error = e
        except BaseException as exc:
            error = self._ended_by(exc)
        finally:
            self.recorder.close()
            self.loop.stop()
        return error

    def _ended_by(self, exc: BaseException) -> BaseException:
        error = exc
        if self._aborted.is_set():
            error = RunAbortedError(f"Run '{self.name}' was aborted (flyte runs abort).", "a0")
            error.info = ErrorInfo("RunAbortedError", "user", str(error), action="a0")  # type: ignore[attr-defined]
        info = getattr(error, "info", None)
        if info is None:
            from flyte_core.run.body import error_info

            info = error_info(error, "a0")
        self.recorder.update_run(phase=_END_PHASES.get(info.code, Phase.FAILED), ended_at=time.time(), error=info)
        return error

    async def _main(self) -> Any:
        await self.backend.start(self.backend_run)
        watcher = asyncio.ensure_future(self._watch())
        try:
            return await self.controller.start_root(self.task, self.inputs)
        finally:
            watcher.cancel()
            await asyncio.shield(self.backend.close())

    async def _watch(self) -> None:
        # Heartbeat (so a dead controller is detected) and abort requests from other processes.
        runs, beats = self.session.runs, 0
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS / 4)
            beats += 1
            if beats % 4 == 0:
                runs.heartbeat(self.name, time.time())
            rec = runs.get_run(self.name)
            if rec is not None and rec.abort_requested and not self._aborted.is_set():
                self._aborted.set()
                await self.controller.abort()


def _wait(fut: Any) -> Any:
    # Wake up periodically so Ctrl-C reaches this (main) thread promptly on every platform.
    while True:
        try:
            return fut.result(timeout=0.25)
        except TimeoutError:
            continue


def _wait_quietly(fut: Any) -> None:
    try:
        fut.result(timeout=30)
    except BaseException:
        pass
