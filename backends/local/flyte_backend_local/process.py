"""The ``local-process`` backend: every action attempt runs in its own worker process.

Each attempt is ``python -m flyte_core.entrypoint SPEC`` in a new session (its own process
group), so a task that crashes the interpreter (``os._exit``, a segfault, the OOM killer) fails
its action with a clear error instead of taking the run down or hanging it, and a timeout kills
the task for real, with everything it started. Nested task calls reach the run's controller
through a :class:`~flyte_core.channel.ChannelServer` and become child actions, each again in its
own worker, at any depth. What workers print is streamed line by line into the run's logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections import deque
from collections.abc import Mapping
from typing import Any

from flyte_backend_local.options import ProcessOptions
from flyte_core.extend import (
    ActionOutcome,
    ActionSpec,
    BackendRun,
    ChannelServer,
    ErrorInfo,
    FlyteUsageError,
    TaskRef,
    is_nested_function,
    read_outcome,
    secret_env,
    task_ref,
    to_secrets,
    worker_environment,
    worker_spec,
)

#: How many of a worker's last output lines a crash report quotes.
TAIL_LINES = 20
_CHUNK = 64 * 1024
#: How long to wait for a dead worker's output pipes to drain (a grandchild in another session
#: may hold them open forever).
_DRAIN_SECONDS = 2.0


class ProcessBackend:
    """The ``local-process`` backend. Options:

    - ``max_workers``: how many workers may run at once (default ``min(32, 4 * cpus)``), so a wide
      ``flyte.map`` does not start a thousand interpreters. A worker waiting for its children
      lends its slot to them (so nesting cannot deadlock) and takes it back when they are done,
      even if that briefly exceeds the bound.
    - ``echo`` (default True): also write what workers print to this process's stdout/stderr, as
      the in-process backend does.
    """

    name = "local-process"
    honours = frozenset({"timeout", "env_vars", "secrets"})

    def __init__(self, options: Mapping[str, Any]) -> None:
        opts = ProcessOptions.parse(options)
        self.echo = opts.echo
        self.max_workers = opts.max_workers
        self._busy = 0  # slots taken
        self._holding: set[str] = set()  # actions whose worker holds a slot
        self._queue: deque[asyncio.Future[None]] = deque()  # executes waiting for a slot
        self._run: BackendRun | None = None
        self._server: ChannelServer | None = None
        self._dir: str | None = None
        #: Attempt currently running per action: the channel only serves live attempts.
        self._live: dict[str, int] = {}
        self._workers: dict[str, asyncio.subprocess.Process] = {}
        self._cleanups: set[asyncio.Future[None]] = set()

    async def start(self, run: BackendRun) -> None:
        """Create the run's private temp dir and start the channel for nested calls."""
        self._run = run
        self._dir = tempfile.mkdtemp(prefix=f"flyte-{run.run_name}-")  # 0700: specs hold tokens
        self._server = ChannelServer(run.controller, is_running=self._is_running,
                                     code_root=run.settings.code_root, on_waiting=self._on_waiting)
        await self._server.start()

    async def execute(self, spec: ActionSpec) -> ActionOutcome:
        """Run one attempt in a new worker process and wait for it (at most ``spec.timeout``)."""
        assert self._run is not None and self._server is not None and self._dir is not None
        ref = task_ref(spec.task, spec.code_root) if spec.task is not None else spec.task_ref
        refusal = _unloadable(spec, ref)
        if refusal is not None:
            return ActionOutcome(error=refusal, final=True)
        base = os.path.join(self._dir, f"{spec.action}-{spec.attempt}")
        ws = worker_spec(
            spec, task=ref, outcome_path=f"{base}.outcome.json", conversion=self._run.conversion,
            channel_path=self._server.path, channel_token=self._server.token_for(spec.action, spec.attempt),
            sys_path=[p for p in sys.path if p and os.path.isdir(p)],
        )
        # A clean environment plus what the task was given: never the caller's other credentials.
        try:
            declared = to_secrets(spec.task.env.secrets) if spec.task is not None else ()
            secrets = secret_env(self._run.plugins, spec.task_name, declared)
        except FlyteUsageError as e:
            return ActionOutcome(error=ErrorInfo("SecretNotFoundError", "user", str(e), action=spec.action), final=True)
        # Unbuffered, so lines reach the run's logs as they are printed, and survive a crash.
        env = worker_environment(self._run.conversion.store.root if self._run.conversion.store else "",
                                 spec.env_vars, secrets, {"PYTHONUNBUFFERED": "1"})
        await self._acquire(spec.action)
        try:
            ws.write(f"{base}.spec.json")
            self._live[spec.action] = spec.attempt
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "flyte_core.entrypoint", f"{base}.spec.json",
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True,
            )
        except BaseException:
            self._live.pop(spec.action, None)
            self._release(spec.action)
            raise
        self._workers[spec.action] = proc
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        readers: list[asyncio.Future[None]] = [
            asyncio.ensure_future(self._pump(proc.stdout, "stdout", spec, tail)),
            asyncio.ensure_future(self._pump(proc.stderr, "stderr", spec, tail)),
        ]
        timed_out = False
        try:
            try:
                await asyncio.wait_for(proc.wait(), spec.timeout)
            except TimeoutError:
                timed_out = True
        finally:
            # Also on cancellation: the worker's group is killed and reaped before we return, and
            # a second cancellation cannot interrupt that (close() waits for it too).
            cleanup = asyncio.ensure_future(self._finish(spec, proc, readers))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
            await asyncio.shield(cleanup)
        if timed_out:
            return _timeout(spec)
        if os.path.exists(ws.outcome_path):
            try:
                outcome = read_outcome(ws.outcome_path)
            finally:
                _remove(f"{base}.spec.json", ws.outcome_path)
            return outcome if outcome.error is None or outcome.error.action else _with_action(outcome, spec)
        _remove(f"{base}.spec.json")
        return _interrupted(spec, proc.returncode, list(tail))

    def execute_inline(self, spec: ActionSpec) -> ActionOutcome | None:
        """Never: every attempt gets its own process."""
        return None

    def blocked(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to do: no task body waits in this process; workers waiting for children lend
        their slots through the channel instead (see ``max_workers``)."""
        return contextlib.nullcontext()

    async def close(self) -> None:
        """Kill every worker still running, stop the channel and remove the run's temp dir."""
        for proc in list(self._workers.values()):
            _kill_group(proc.pid)
        await asyncio.gather(*list(self._cleanups), return_exceptions=True)
        if self._server is not None:
            await self._server.close()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # --- internals ---------------------------------------------------------------------------

    def _is_running(self, action: str, attempt: int) -> bool:
        return self._live.get(action) == attempt

    # Slots: all on the run's loop, so plain counters suffice.

    async def _acquire(self, action: str) -> None:
        if self._busy < self.max_workers and not self._queue:
            self._busy += 1
        else:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._queue.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut.done() and not fut.cancelled():  # granted just before we were cancelled
                    self._busy -= 1
                    self._grant()
                raise
        self._holding.add(action)

    def _release(self, action: str) -> None:
        if action in self._holding:
            self._holding.discard(action)
            self._busy -= 1
            self._grant()

    def _grant(self) -> None:
        while self._queue and self._busy < self.max_workers:
            fut = self._queue.popleft()
            if not fut.done():
                fut.set_result(None)
                self._busy += 1

    def _on_waiting(self, action: str, waiting: bool) -> None:
        if waiting:
            self._release(action)
        elif action in self._live and action not in self._holding:
            # The worker resumes at once; we cannot make it wait, so the bound is briefly exceeded.
            self._holding.add(action)
            self._busy += 1

    async def _finish(self, spec: ActionSpec, proc: asyncio.subprocess.Process,
                      readers: list[asyncio.Future[None]]) -> None:
        """Stop and reap the worker, drain its output, and cancel the children it started."""
        self._live.pop(spec.action, None)  # from now on the channel refuses its requests
        self._release(spec.action)
        _kill_group(proc.pid)  # the whole group: whatever the task started dies with it
        await proc.wait()
        _, stuck = await asyncio.wait(readers, timeout=_DRAIN_SECONDS)
        for r in stuck:
            r.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        if self._server is not None:
            await self._server.release(spec.action)
        if self._workers.get(spec.action) is proc:
            del self._workers[spec.action]

    async def _pump(self, stream: asyncio.StreamReader | None, name: str, spec: ActionSpec,
                    tail: deque[str]) -> None:
        """Forward a worker's output to the run's logs line by line (long lines in pieces)."""
        if stream is None:
            return
        buf = b""
        while chunk := await stream.read(_CHUNK):
            *lines, buf = (buf + chunk).split(b"\n")
            if len(buf) >= _CHUNK:
                lines.append(buf)
                buf = b""
            for line in lines:
                self._emit(spec, name, line, tail)
        if buf:
            self._emit(spec, name, buf, tail)

    def _emit(self, spec: ActionSpec, stream: str, raw: bytes, tail: deque[str]) -> None:
        assert self._run is not None
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        tail.append(text)
        self._run.log(spec.action, spec.attempt, stream, text)
        if self.echo:
            out = sys.stdout if stream == "stdout" else sys.stderr
            with contextlib.suppress(Exception):
                out.write(text + "\n")


def _unloadable(spec: ActionSpec, ref: TaskRef) -> ErrorInfo | None:
    """Why no worker process could import the task, or None."""
    why = None
    if spec.task is not None and is_nested_function(spec.task):
        why = (f"it is defined inside a function ({spec.task.func.__qualname__}), and another process "
               "can only import tasks defined at module level; move it to module level")
    elif ref.module == "__main__" and ref.file is None:
        why = ("it is defined in a __main__ module that has no file (an interactive session, python -c "
               "or a notebook); put it in a .py file")
    if why is None:
        return None
    return ErrorInfo("ModuleLoadError", "user",
                     f"Task '{spec.task_name}' cannot run on the local-process backend: {why} "
                     "(or use the 'local' backend).", action=spec.action)


def _kill_group(pid: int) -> None:
    # The worker leads its own session/group (start_new_session), so this reaches everything the
    # task started and nothing else; the group may already be gone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _interrupted(spec: ActionSpec, code: int | None, tail: list[str]) -> ActionOutcome:
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = f"signal {-code}"
        how = f"was killed by {sig}"
        if sig == "SIGKILL":
            how += " (the OS may have run out of memory)"
    elif code == 0:
        how = "exited with code 0 without reporting an outcome"
    else:
        how = f"exited with exit code {code}"
    msg = (f"The worker process of action {spec.action} (task '{spec.task_name}', attempt {spec.attempt}) "
           f"{how} before the task finished.")
    if tail:
        msg += "\nLast output lines:\n" + "\n".join(tail)
    return ActionOutcome(error=ErrorInfo("TaskInterruptedError", "system", msg, action=spec.action))


def _timeout(spec: ActionSpec) -> ActionOutcome:
    return ActionOutcome(error=ErrorInfo(
        "TaskTimeoutError", "user",
        f"Task '{spec.task_name}' did not finish within its timeout of {spec.timeout:g}s; its worker "
        "process was killed.",
        action=spec.action,
    ))


def _with_action(outcome: ActionOutcome, spec: ActionSpec) -> ActionOutcome:
    import attrs

    assert outcome.error is not None
    return attrs.evolve(outcome, error=attrs.evolve(outcome.error, action=spec.action))


def _remove(*paths: str) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            os.remove(p)
