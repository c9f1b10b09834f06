"""The ``example-echo`` backend: each attempt's task body runs in a thread of this process.

Written from the :class:`flyte_core.extend.Backend` protocol alone: ``run_task_sync`` /
``run_task_async`` decode the inputs, call the body (or the runner a task-kind plugin registered
for its ``plugin_config``) and encode its result or error exactly as every backend does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from flyte_core.extend import ActionOutcome, ActionSpec, BackendRun, ErrorInfo, run_task_async, run_task_sync


class EchoBackend:
    """Runs sync task bodies in worker threads and async ones on the run's loop; enforces timeouts."""

    name = "example-echo"
    #: The task settings this backend acts on; the run reports others a task sets (resources, ...).
    honours = frozenset({"timeout", "env_vars"})

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        self._run: BackendRun | None = None

    async def start(self, run: BackendRun) -> None:
        """Keep the run (type engine, conversion context, task kinds) for its attempts."""
        self._run = run

    async def execute(self, spec: ActionSpec) -> ActionOutcome:
        """Run one attempt; past ``spec.timeout`` it fails as a TaskTimeoutError."""
        run = self._run
        if run is None or spec.task is None:
            raise RuntimeError("example-echo: execute() before start(), or a task not in this process")
        args = (spec.task, dict(spec.inputs), spec.context, run.engine, run.conversion, run.task_kinds)
        work = run_task_async(*args) if spec.task.is_async else asyncio.to_thread(run_task_sync, *args)
        try:
            return await asyncio.wait_for(work, spec.timeout)
        except TimeoutError:
            message = f"Task '{spec.task_name}' did not finish within {spec.timeout:g}s."
            return ActionOutcome(error=ErrorInfo("TaskTimeoutError", "user", message, action=spec.action))

    def execute_inline(self, spec: ActionSpec) -> ActionOutcome | None:
        """Never inline: every attempt goes through :meth:`execute`."""
        return None

    def blocked(self) -> AbstractContextManager[None]:
        """Nothing to lend: threads are not bounded here."""
        return contextlib.nullcontext()

    async def close(self) -> None:
        """Forget the run (the threads of finished attempts have ended)."""
        self._run = None
