"""The ``local-process`` backend: every action runs in its own worker process.

A worker is ``python -m flyte_core.worker.entrypoint --serve FD`` in a new session (its own process
group), so a task that crashes the interpreter (``os._exit``, a segfault, the OOM killer) fails
its action with a clear error instead of taking the run down or hanging it, and a timeout kills
the task for real, with everything it started. When an attempt fails by raising and retries are
left, the worker is kept and runs the retry, so module-level state carries over between attempts as
under Flyte 2's local controller; after a crash or a timeout the retry gets a fresh worker.

Nested task calls reach the run's controller through the channel server and become child actions,
each again in its own worker, at any depth. What workers print is streamed line by line into the
run's logs.
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
        self._workers: dict[str, _Worker] = {}
        #: Workers kept between a failed attempt and the action's retry (see ``_retried_in_place``).
        self._parked: dict[str, _Worker] = {}
        self._cleanups: set[asyncio.Future[None]] = set()

    async def start(self, run: BackendRun) -> None:
        """Create the run's private temp dir and start the channel for nested calls."""
        self._run = run
        self._dir = tempfile.mkdtemp(prefix=f"flyte-{run.run_name}-")  # 0700: specs hold tokens
        self._server = ChannelServer(run.controller, is_running=self._is_running,
                                     code_root=run.settings.code_root, on_waiting=self._on_waiting)
        await self._server.start()

    async def execute(self, spec: ActionSpec) -> ActionOutcome:
        """Run one attempt in a worker process (the one kept from the action's failed attempt, else a
        new one) and wait for it (at most ``spec.timeout``)."""
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
        worker = self._parked.pop(spec.action, None)
        if worker is not None and worker.proc.returncode is not None:  # it died while parked
            await self._finish(worker)
            worker = None
        await self._acquire(spec.action)
        try:
            ws.write(f"{base}.spec.json")
            self._live[spec.action] = spec.attempt
            if worker is None:
                worker = await self._spawn(spec, env)
            worker.spec = spec
            assert worker.proc.stdin is not None
            worker.proc.stdin.write(f"{base}.spec.json\n".encode())
        except BaseException:
            self._live.pop(spec.action, None)
            self._release(spec.action)
            if worker is not None:
                await self._finish(worker)
            raise
        outcome: ActionOutcome | None = None
        timed_out = park = False
        try:
            done, timed_out = await worker.attempt_done(spec.timeout)
            if done and os.path.exists(ws.outcome_path):
                outcome = read_outcome(ws.outcome_path)
                park = _retried_in_place(spec, outcome) and len(self._parked) < self.max_workers
        finally:
            _remove(f"{base}.spec.json", ws.outcome_path)
            # Also on cancellation: the worker's group is killed and reaped before we return, and
            # a second cancellation cannot interrupt that (close() waits for it too).
            cleanup = asyncio.ensure_future(self._park(worker) if park else self._finish(worker))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
            await asyncio.shield(cleanup)
        if timed_out:
            return _timeout(spec)
        if outcome is not None:
            return outcome if outcome.error is None or outcome.error.action else _with_action(outcome, spec)
        return _interrupted(spec, worker.proc.returncode, list(worker.tail))

    async def _spawn(self, spec: ActionSpec, env: dict[str, str]) -> _Worker:
        """Start a serving worker process (see ``flyte_core.worker.entrypoint --serve``) for ``spec``."""
        loop = asyncio.get_running_loop()
        done_r, done_w = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "flyte_core.worker.entrypoint", "--serve", str(done_w),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True, pass_fds=(done_w,),
            )
        except BaseException:
            os.close(done_r)
            raise
        finally:
            os.close(done_w)
        done = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(done),
                                                    os.fdopen(done_r, "rb", buffering=0))
        worker = _Worker(proc, spec, done, transport)
        self._workers[spec.action] = worker
        worker.readers = [asyncio.ensure_future(self._pump(proc.stdout, "stdout", worker)),
                          asyncio.ensure_future(self._pump(proc.stderr, "stderr", worker))]
        return worker

    def execute_inline(self, spec: ActionSpec) -> ActionOutcome | None:
        """Never: every attempt gets its own process."""
        return None

    def blocked(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to do: no task body waits in this process; workers waiting for children lend
        their slots through the channel instead (see ``max_workers``)."""
        return contextlib.nullcontext()

    async def close(self) -> None:
        """Kill every worker still running, stop the channel and remove the run's temp dir."""
        for worker in list(self._workers.values()):
            _kill_group(worker.proc.pid)
        parked, self._parked = list(self._parked.values()), {}
        await asyncio.gather(*list(self._cleanups), *(self._finish(w) for w in parked), return_exceptions=True)
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

    async def _park(self, worker: _Worker) -> None:
        """Keep a worker whose attempt failed for its action's next attempt (see ``_retried_in_place``);
        what its failed attempt started is cancelled, as when a worker ends."""
        spec = worker.spec
        self._live.pop(spec.action, None)  # from now on the channel refuses the old attempt's requests
        self._release(spec.action)
        if self._server is not None:
            await self._server.release(spec.action)
        self._parked[spec.action] = worker

    async def _finish(self, worker: _Worker) -> None:
        """Stop and reap the worker, drain its output, and cancel the children it started."""
        spec, proc = worker.spec, worker.proc
        if self._live.get(spec.action) == spec.attempt:
            del self._live[spec.action]  # from now on the channel refuses its requests
        self._release(spec.action)
        _kill_group(proc.pid)  # the whole group: whatever the task started dies with it
        await proc.wait()
        worker.done_transport.close()
        _, stuck = await asyncio.wait(worker.readers, timeout=_DRAIN_SECONDS)
        for r in stuck:
            r.cancel()
        await asyncio.gather(*worker.readers, return_exceptions=True)
        if self._server is not None:
            await self._server.release(spec.action)
        if self._workers.get(spec.action) is worker:
            del self._workers[spec.action]

    async def _pump(self, stream: asyncio.StreamReader | None, name: str, worker: _Worker) -> None:
        """Forward a worker's output to the run's logs line by line (long lines in pieces), each line
        to the attempt the worker runs when it arrives."""
        if stream is None:
            return
        buf = b""
        while chunk := await stream.read(_CHUNK):
            *lines, buf = (buf + chunk).split(b"\n")
            if len(buf) >= _CHUNK:
                lines.append(buf)
                buf = b""
            for line in lines:
                self._emit(worker.spec, name, line, worker.tail)
        if buf:
            self._emit(worker.spec, name, buf, worker.tail)

    def _emit(self, spec: ActionSpec, stream: str, raw: bytes, tail: deque[str]) -> None:
        assert self._run is not None
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        tail.append(text)
        self._run.log(spec.action, spec.attempt, stream, text)
        if self.echo:
            out = sys.stdout if stream == "stdout" else sys.stderr
            with contextlib.suppress(Exception):
                out.write(text + "\n")


class _Worker:
    """A worker process, the attempt it runs, and the readers of its output and its done pipe."""

    def __init__(self, proc: asyncio.subprocess.Process, spec: ActionSpec, done: asyncio.StreamReader,
                 done_transport: asyncio.BaseTransport) -> None:
        self.proc = proc
        self.spec = spec
        self.done = done
        self.done_transport = done_transport
        self.readers: list[asyncio.Future[None]] = []
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)

    async def attempt_done(self, timeout: float | None) -> tuple[bool, bool]:
        """Wait until the current attempt's outcome is written or the process ends; returns
        ``(outcome_written, timed_out)``."""
        line = asyncio.ensure_future(self.done.readline())
        ended = asyncio.ensure_future(self.proc.wait())
        try:
            finished, _ = await asyncio.wait({line, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            line.cancel()
            ended.cancel()
        if not finished:
            return False, True
        return line in finished and line.result() == b"done\n", False


def _retried_in_place(spec: ActionSpec, outcome: ActionOutcome) -> bool:
    """Whether the action's next attempt runs in this attempt's worker: after a failure the task
    raised (not a crash or a timeout) that retries are left for. Module-level state then carries over
    between attempts, as under Flyte 2's local controller, whose retries share one process."""
    error = outcome.error
    if error is None or outcome.final or error.kind != "user" or spec.task is None:
        return False
    return spec.attempt <= spec.task.retries.count


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
