"""Warm pools of reusable task containers (``TaskEnvironment(reusable=flyte.ReusePolicy(...))``).

One pool per run and environment (image and settings) keeps ``min`` to ``max`` replicas of a
long-lived worker container (:mod:`flyte_backend_docker.pool_worker`) and sends them attempts over
a control socket instead of starting a container per attempt. All on the run's event loop.

- Scaling: the first attempt starts ``min`` replicas (at least one); one more starts when all are
  busy, up to ``max``. A replica idle for ``scaledown_ttl`` stops while the pool is above ``min``;
  one idle for ``idle_ttl`` stops in any case (an idle environment keeps no containers).
- Sharing: a sync attempt has a replica to itself; async ones share it up to ``concurrency`` (as in
  Flyte 2). An attempt waiting for its children lends its place, so tasks can call their own
  environment's tasks without deadlock.
- Stopping an attempt (timeout, abort) kills its replica, the only way to stop its code; attempts
  sharing it end as interrupted, and a new replica starts on demand. A replica that dies (OOM,
  crash) ends its attempts with its exit status and last output lines, as a fresh container would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import attrs
import docker
import docker.errors

from flyte_backend_docker.engine import ExitWatch, sigkill_hint
from flyte_backend_docker.hostkill import HostKiller
from flyte_core.extend import ActionSpec, FlyteUsageError, ReusePolicy

#: Label naming the environment a pool container serves (beside the run and controller labels).
POOL_LABEL = "org.flyte.pool"
#: How long a new replica may take to connect; the longest control message the host reads (a worker
#: cuts longer log lines in pieces); how many last output lines an error quotes.
START_TIMEOUT, MAX_MESSAGE, TAIL_LINES = 120.0, 16 * 1024 * 1024, 20
IDLE, ENDED = "idle", "the run ended"  # reasons to stop a replica that are no failure (see keep_failed)
#: Why a standby container stops once the attempt that took it ended (no failure either), and how
#: long its worker gets to exit by itself before the container is removed anyway.
RETIRED, RETIRE_GRACE = "the attempt that took it ended", 5.0

#: ``launch(spec, tag, worker_id, command)`` creates and starts a replica's container, returning its
#: id; ``emit(spec, stream, line)`` records one line an attempt printed.
Launch = Callable[[ActionSpec, str, str, list[str]], Awaitable[str]]
Emit = Callable[[ActionSpec, str, str], None]


@attrs.frozen
class PoolResult:
    """How an attempt on a replica ended: ``done`` (with its ``outcome``, the JSON object the worker
    sent, or None when it wrote the spec's outcome file instead), ``exit`` (it ended without one,
    with ``code``), ``timeout``, ``lost`` (the replica died: ``code``, ``oom``, and ``why`` if the host
    stopped it), or ``failed`` (no replica could start: ``why``); ``tail``: its last lines."""

    kind: str
    code: int = 0
    oom: bool = False
    why: str = ""
    tail: tuple[str, ...] = ()
    outcome: dict[str, Any] | None = None

    def message(self, spec: ActionSpec, reusable: bool = True) -> str:
        """What went wrong, for an attempt that ended without an outcome (not by timeout or OOM);
        ``reusable`` False: it ran on a container of its own (a standby), worded as a fresh one's."""
        who = f"action {spec.action} (task '{spec.task_name}', attempt {spec.attempt})"
        kind = "reusable container" if reusable else "container"
        on = " on its reusable container" if reusable else ""
        msg = {"exit": f"The task of {who} exited with code {self.code}{on} before it finished.",
               "lost": f"The {kind} running {who} exited with code {self.code} before the task finished"
                       + (f" (it was stopped because {self.why})." if self.why else
                          "." + sigkill_hint(self.code)),
               }.get(self.kind, f"{self.why} (for {who}).")
        return msg + ("\nLast output lines:\n" + "\n".join(self.tail) if self.tail else "")


def pool_key(spec: ActionSpec, tag: str) -> tuple[str, ...]:
    """Which pool an attempt goes to: its environment, image and everything a container is started with."""
    assert spec.task is not None
    env = spec.task.env
    return (env.name, tag, repr(sorted(spec.env_vars.items())), repr(env.resources), repr(env.secrets),
            repr(env.reusable))


#: The policy of a standby pool: at most one container waits; one unused for this long stops.
STANDBY_POLICY = ReusePolicy(replicas=(0, 1), idle_ttl=30, scaledown_ttl=30)


@attrs.define(eq=False)
class _Attempt:
    spec: ActionSpec
    aid: str  # its name on the control connection: <action>-<attempt>
    exclusive: bool
    pool: Pool
    done: asyncio.Future[dict[str, Any]] = attrs.field(factory=lambda: asyncio.get_running_loop().create_future())
    tail: deque[str] = attrs.field(factory=lambda: deque(maxlen=TAIL_LINES))
    lent: bool = False  # waiting for its children: its place may be taken
    borrow: Callable[[str], None] | None = None  # lends one of its store folders when its worker asks


@attrs.define(eq=False)
class Replica:
    """One worker container of a pool and the attempts it runs."""

    pool: Pool
    wid: str  # the worker's name on the control connection (random: a hello cannot be guessed)
    cid: str | None = None
    writer: asyncio.StreamWriter | None = None
    ready: asyncio.Future[bool] = attrs.field(  # True once its worker connected, False if it never will
        factory=lambda: asyncio.get_running_loop().create_future())
    running: dict[str, _Attempt] = attrs.field(factory=dict)
    idle_since: float = attrs.field(factory=time.monotonic)
    stopping: str | None = None  # why the host stops it; None while it is wanted
    launching: bool = True  # its start is under way (its container id may not be known yet)
    claimed: bool = False  # a standby (single-use) replica an attempt took: never offered again
    removing: bool = False
    exit: asyncio.Future[PoolResult] | None = None  # how its container ended, once asked

    def fits(self, exclusive: bool, concurrency: int) -> bool:
        """True when it is ready and can take one more attempt of this kind now."""
        if not (self.ready.done() and self.ready.result()) or self.stopping is not None or self.claimed:
            return False
        active = [a for a in self.running.values() if not a.lent]
        return not active if exclusive else len(active) < concurrency and not any(a.exclusive for a in active)


class Pool:
    """The replicas of one environment in one run; ``spec`` (the first attempt's) gives the
    settings replicas start with. A ``single_use`` pool is a standby pool: each replica is started
    before it is needed and runs one attempt (see :meth:`claim`)."""

    def __init__(self, manager: PoolManager, policy: ReusePolicy, spec: ActionSpec, tag: str,
                 single_use: bool = False) -> None:
        assert spec.task is not None
        self.manager, self.policy, self.spec, self.tag = manager, policy, spec, tag
        self.single_use = single_use
        self.name = spec.task.env.name
        self.calls = 0  # attempts that asked a standby pool for a container so far
        self._claims: dict[str, Replica] = {}  # action -> the standby it claimed
        self.replicas: list[Replica] = []
        self._waiting, self._failures = 0, 0
        self._failure: Exception = RuntimeError()
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Wake every attempt waiting for a replica (one freed up, started, or failed)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def acquire(self, exclusive: bool) -> Replica | Exception:
        """A replica with room for one attempt (scaling up as allowed), or why none could start."""
        seen = self._failures
        self._waiting += 1
        try:
            if not self.replicas:
                for _ in range(max(1, self.policy.min_replicas)):
                    self._grow()
            while True:
                fitting = [r for r in self.replicas if r.fits(exclusive, self.policy.concurrency)]
                if fitting:  # the least loaded; the oldest among equals, so newer ones can go idle
                    return min(fitting, key=lambda r: sum(not a.lent for a in r.running.values()))
                if self._failures != seen:
                    return self._failure
                starting = sum(1 for r in self.replicas if not r.ready.done())
                if starting < self._waiting and len(self.replicas) < self.policy.max_replicas:
                    self._grow()
                await self._changed.wait()
        finally:
            self._waiting -= 1

    async def claim(self, action: str, sequential: bool) -> Replica | None:
        """A standby pool's waiting container for an attempt of ``action``, after it is ready (one
        still starting is waited for: it started before a new one would); None when there is none or
        it could not start. The next standby starts at once, while this one runs, when the call is
        one of a sequence: not the environment's first, and ``sequential`` (no other call of the run
        runs meanwhile, callers waiting for their children aside). Calls made together (a fan-out)
        start their own containers at once anyway, and a standby after the last of them would go
        unused. :meth:`ended` must follow, whatever happens."""
        self.calls += 1
        waiting = self._unclaimed()
        if waiting is not None:
            waiting.claimed = True
            self._claims[action] = waiting
        if self.calls > 1 and sequential:
            self.replenish()
        if waiting is None:
            return None
        ready = await asyncio.shield(waiting.ready)
        return waiting if ready and waiting.stopping is None else None

    def ended(self, action: str) -> None:
        """The attempt of ``action`` that called :meth:`claim` ended: the standby it claimed goes too
        (it is stopping already if the attempt ran on it; if not, aborted first, nobody else takes it)."""
        claimed = self._claims.pop(action, None)
        if claimed is not None and claimed.stopping is None:
            self.manager.stop(claimed, RETIRED)

    def replenish(self) -> None:
        """Start a standby container unless one is waiting (or starting) already, or one could not
        start (the attempts start their own containers then, which say why)."""
        if not self._failures and self._unclaimed() is None:
            self._grow()

    def _unclaimed(self) -> Replica | None:
        """A standby (ready or starting) no attempt has taken yet."""
        return next((r for r in self.replicas if not r.claimed and r.stopping is None), None)

    def _grow(self) -> None:
        r = Replica(self, secrets.token_hex(8))
        self.replicas.append(r)
        self.manager.replicas[r.wid] = r
        self.manager.background(self._start(r))

    async def _start(self, r: Replica) -> None:
        m = self.manager
        ok = False
        try:
            r.cid = await m.launch(self.spec, self.tag, r.wid, m.command(r.wid))
            deadline = time.monotonic() + START_TIMEOUT
            # Wait for the worker to connect; look at the container now and then, since one that
            # exits early (a broken image, a failed import) never will.
            while not r.ready.done() and r.stopping is None:
                if (await asyncio.wait([r.ready], timeout=0.5))[0] or r.stopping is not None:
                    break
                state = (await asyncio.to_thread(m.client.api.inspect_container, r.cid))["State"]
                if not state.get("Running"):
                    ex = await m.exit_of(r)
                    raise RuntimeError(f"its container exited with code {ex.code} before it was ready"
                                       + "".join(f"\n{line}" for line in ex.tail))
                if time.monotonic() > deadline:
                    raise RuntimeError(f"it did not connect within {START_TIMEOUT:g}s")
            ok = r.ready.done() and r.ready.result() and r.stopping is None
        except Exception as e:
            if r.stopping is None:  # not stopped on purpose (the run ending): a real failure
                self._failures += 1
                self._failure = e if isinstance(e, FlyteUsageError) else RuntimeError(
                    f"A reusable container for environment '{self.name}' could not start: {e}")
        finally:
            r.launching = False
            if not r.ready.done():
                r.ready.set_result(False)
            if not ok:
                m.stop(r, r.stopping or "it did not start")
            r.idle_since = time.monotonic()
            self.notify()


class PoolManager:
    """The pools of one run, their control socket, and the reaper of idle replicas.

    ``launch`` starts a replica's container, ``emit`` records an attempt's output line, and
    ``removed(worker_id)`` is told when a replica's container is gone (to release its secrets).
    ``host_kill`` (a :class:`~flyte_backend_docker.hostkill.HostKiller`) kills an aborted attempt's
    replica from this host, before the engine is asked to.
    """

    def __init__(self, client: docker.DockerClient, launch: Launch, emit: Emit, removed: Callable[[str], None],
                 bundle: str, code_dir: str, keep_failed: bool = False, host_kill: HostKiller | None = None,
                 watch: ExitWatch | None = None) -> None:
        self.client, self.launch, self._emit, self._removed = client, launch, emit, removed
        self._host_kill, self._watch = host_kill, watch
        self._bundle, self._code_dir, self._keep_failed = bundle, code_dir, keep_failed
        self.pools: dict[Any, Pool] = {}
        self.replicas: dict[str, Replica] = {}
        self._attempts: dict[str, _Attempt] = {}  # action -> its attempt on a replica
        self._tasks: set[asyncio.Future[Any]] = set()
        self._server: asyncio.AbstractServer | None = None
        self._reaper: asyncio.Task[None] | None = None
        #: A private folder (0700, short path) for the control socket; bind-mounted into every replica.
        self.dir = tempfile.mkdtemp(prefix="flyte-pool-", dir="/tmp")
        self.path = os.path.join(self.dir, "control.sock")

    def command(self, wid: str) -> list[str]:
        """The command a replica's container runs."""
        return ["python", "-m", "flyte_backend_docker.pool_worker", self.path, wid, self._bundle, self._code_dir]

    async def start(self) -> None:
        """Listen for replicas (on the running loop) and start the reaper."""
        self._server = await asyncio.start_unix_server(self._serve, path=self.path, limit=MAX_MESSAGE)
        self._reaper = asyncio.ensure_future(self._reap())

    def standby(self, spec: ActionSpec, tag: str) -> Pool:
        """The standby pool of the containers ``spec``'s attempts start with (for environments that
        are not reusable: each attempt still gets a container of its own, started beforehand)."""
        return self._pool(("standby", *pool_key(spec, tag)), STANDBY_POLICY, spec, tag, single_use=True)

    def _pool(self, key: tuple[str, ...], policy: ReusePolicy, spec: ActionSpec, tag: str,
              single_use: bool = False) -> Pool:
        """The pool under ``key``, made with ``spec``'s settings on first use."""
        if (pool := self.pools.get(key)) is None:
            pool = self.pools[key] = Pool(self, policy, spec, tag, single_use=single_use)
        return pool

    async def execute(self, spec: ActionSpec, tag: str, place: Callable[[str], dict[str, Any]],
                      borrow: Callable[[str], None] | None = None, replica: Replica | None = None) -> PoolResult:
        """Run an attempt on a replica of its environment's pool (or on ``replica``, a standby the
        attempt claimed; it is removed after); ``place(worker_id)``, called once the replica is
        chosen, readies what that replica needs for it and returns its worker spec (JSON). With
        ``borrow``, the worker writes the attempt's store folders only after asking for each
        (``"data"`` or ``"action"``): ``borrow(folder)`` lends it, on this loop, before the reply."""
        assert spec.task is not None
        exclusive = not spec.task.is_async
        r: Replica | Exception
        if replica is not None:
            r, pool = replica, replica.pool
        else:
            assert spec.task.env.reusable is not None
            pool = self._pool(pool_key(spec, tag), spec.task.env.reusable, spec, tag)
            r = await pool.acquire(exclusive)
        if isinstance(r, FlyteUsageError):
            raise r  # e.g. a missing secret: the user's to fix, reported as on fresh containers
        if isinstance(r, Exception):
            return PoolResult("failed", why=str(r))
        aid = f"{spec.action}-{spec.attempt}"
        try:
            # Synchronous: the replica stays this attempt's until it is registered below.
            worker_spec = place(r.wid)
        except Exception:
            pool.notify()
            raise
        attempt = r.running[aid] = self._attempts[spec.action] = _Attempt(spec, aid, exclusive, pool, borrow=borrow)
        succeeded = False
        try:
            assert r.writer is not None
            msg = {"run": aid, "spec": worker_spec, **({"borrow": True} if borrow is not None else {})}
            r.writer.write((json.dumps(msg, separators=(",", ":")) + "\n").encode())
            try:
                reply = await asyncio.wait_for(asyncio.shield(attempt.done), spec.timeout)
            except TimeoutError:
                self.stop(r, f"attempt {spec.attempt} of action {spec.action} on it timed out")
                return PoolResult("timeout")
            except asyncio.CancelledError:  # aborted: stopping the code means stopping its replica
                if self._host_kill is not None and r.cid is not None:
                    self._host_kill.kill(r.cid)  # at once, as a fresh container's (hostkill.py)
                self.stop(r, f"attempt {spec.attempt} of action {spec.action} on it was aborted")
                raise
            if reply.get("lost"):
                ex = await self.exit_of(r)
                # The attempt's own lines tell most; the container's tell why a worker crashed.
                return attrs.evolve(ex, why=r.stopping or "", tail=tuple(attempt.tail) or ex.tail)
            if "exit" in reply:
                return PoolResult("exit", code=int(reply["exit"]), tail=tuple(attempt.tail))
            outcome = reply.get("outcome")
            succeeded = not isinstance(outcome, dict) or not outcome.get("error")
            return PoolResult("done", outcome=outcome if isinstance(outcome, dict) else None)
        finally:
            r.running.pop(aid, None)
            if self._attempts.get(spec.action) is attempt:
                del self._attempts[spec.action]
            if not r.running:
                r.idle_since = time.monotonic()
            if pool.single_use:  # kept for debugging like a fresh one when it failed (keep_failed)
                self.stop(r, RETIRED if succeeded else f"attempt {spec.attempt} of action {spec.action} on it failed")
            pool.notify()

    def on_waiting(self, action: str, waiting: bool) -> None:
        """The channel's news: ``action`` waits for its children (lends its place) or stops waiting."""
        if (attempt := self._attempts.get(action)) is not None:
            attempt.lent = waiting
            if waiting:
                attempt.pool.notify()

    def stop(self, r: Replica, why: str) -> None:
        """Take a replica out of its pool and remove its container (in the background)."""
        r.stopping = why if r.stopping is None else r.stopping
        if r in r.pool.replicas:
            r.pool.replicas.remove(r)
            r.pool.notify()
        if r.launching:
            return  # its container may still be being created: its start stops it when done
        if not r.removing:
            r.removing = True
            self.background(self._remove(r))

    def background(self, coro: Awaitable[Any]) -> None:
        """Run ``coro`` on the loop, remembered so :meth:`close` can wait for it."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop every replica of every pool, remove their containers, and stop listening."""
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
        for r in list(self.replicas.values()):
            self.stop(r, ENDED)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        shutil.rmtree(self.dir, ignore_errors=True)

    async def exit_of(self, r: Replica) -> PoolResult:
        """How a dead replica's container ended (asked once, whoever asks first)."""
        if r.exit is None:
            r.exit = asyncio.ensure_future(self._exit_info(r.cid, killed_here=r.stopping is not None))
        return await asyncio.shield(r.exit)

    async def _exit_info(self, cid: str | None, killed_here: bool) -> PoolResult:
        """Wait (briefly) for a container to stop; read its OOM flag, exit code and last output
        (``killed_here``: the host stopped it)."""
        api = self.client.api
        state = await self._stopped(cid, 5.0, every=0.1) if cid else {}
        try:
            raw = await asyncio.to_thread(api.logs, cid, stdout=True, stderr=True, tail=TAIL_LINES) if cid else b""
        except docker.errors.APIError:
            raw = b""
        tail = tuple(raw.decode("utf-8", errors="replace").splitlines())
        code = int(state.get("ExitCode", -1))
        oom = bool(state.get("OOMKilled")) or (cid is not None and self._watch is not None
                                              and await self._watch.oom_killed(cid, code, killed_here))
        return PoolResult("lost", code=code, oom=oom, tail=tail)

    async def _remove(self, r: Replica) -> None:
        """Kill and remove a replica's container (with ``keep_failed``, a failed one is only stopped)."""
        api = self.client.api
        if r.cid is not None:
            if r.running:  # a dead replica's attempts read its exit state before it goes
                with contextlib.suppress(docker.errors.APIError):
                    await asyncio.to_thread(api.kill, r.cid)
                await self.exit_of(r)
            if r.writer is not None:
                r.writer.close()
                if r.stopping == RETIRED:  # its worker exits by itself now: removed after, as fresh ones are
                    await self._stopped(r.cid, RETIRE_GRACE, every=0.05)
            with contextlib.suppress(docker.errors.APIError):
                if self._keep_failed and r.stopping not in (IDLE, ENDED, RETIRED):
                    await asyncio.to_thread(api.kill, r.cid)
                else:
                    await asyncio.to_thread(api.remove_container, r.cid, force=True, v=True)
        if self._host_kill is not None and r.cid is not None:
            self._host_kill.forget(r.cid)
        if self._watch is not None and r.cid is not None:
            self._watch.forget(r.cid)
        self.replicas.pop(r.wid, None)
        self._removed(r.wid)

    async def _stopped(self, cid: str, within: float, every: float) -> dict[str, Any]:
        """Wait (at most about ``within`` seconds, looking every ``every``) until container ``cid`` no
        longer runs; its last state seen (``{}`` if none could be read)."""
        state: dict[str, Any] = {}
        deadline = time.monotonic() + within
        while True:
            try:
                state = (await asyncio.to_thread(self.client.api.inspect_container, cid))["State"]
            except docker.errors.APIError:
                return state
            if not state.get("Running") or time.monotonic() >= deadline:
                return state
            await asyncio.sleep(every)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One replica's connection: its hello, then its log lines and finished attempts."""
        r: Replica | None = None
        try:
            hello = json.loads(await reader.readline() or b"{}")
            r = self.replicas.get(str(hello.get("hello"))) if isinstance(hello, dict) else None
            if r is None or r.ready.done() or r.stopping is not None:
                return  # not a replica we started, one already connected, or one being stopped
            r.writer = writer
            r.ready.set_result(True)
            r.pool.notify()
            while line := await reader.readline():
                msg = json.loads(line)
                attempt = r.running.get(msg.get("log") or msg.get("done") or msg.get("borrow") or "")
                if attempt is None:
                    continue
                if "log" in msg:
                    text = str(msg.get("line", ""))
                    attempt.tail.append(text)
                    self._emit(attempt.spec, str(msg.get("stream", "stdout")), text)
                elif "borrow" in msg:
                    writer.write(_lent(attempt, msg.get("folder")))
                elif not attempt.done.done():
                    attempt.done.set_result(msg)
        except (OSError, ValueError):
            pass  # a broken connection is a dead replica, handled below
        finally:
            if r is not None and r.writer is writer:
                self._lost(r)
            writer.close()

    def _lost(self, r: Replica) -> None:
        """The replica's connection ended: it died, or we stopped it. Its attempts end as lost."""
        for attempt in list(r.running.values()):
            if not attempt.done.done():
                attempt.done.set_result({"lost": True})
        if r.stopping is None:
            self.stop(r, "")

    async def _reap(self) -> None:
        """Stop replicas idle for too long (see the module doc), checking a few times per ttl."""
        while True:
            ttls = {p: (_seconds(p.policy.idle_ttl), _seconds(p.policy.scaledown_ttl)) for p in self.pools.values()}
            await asyncio.sleep(min([1.0, *[max(0.05, min(t) / 4) for t in ttls.values()]]))
            now = time.monotonic()
            for pool, (idle_ttl, scaledown) in ttls.items():
                for r in sorted(pool.replicas, key=lambda r: r.idle_since):  # the longest idle first
                    if r.running or r.claimed or not r.ready.done():  # a claimed standby is about to run
                        continue
                    idle = now - r.idle_since
                    if idle >= idle_ttl or (idle >= scaledown and len(pool.replicas) > pool.policy.min_replicas):
                        self.stop(r, IDLE)


def _lent(attempt: _Attempt, folder: Any) -> bytes:
    """The reply to a worker asking for one of ``attempt``'s store folders, lent first."""
    reply: dict[str, Any] = {"lent": attempt.aid, "folder": folder}
    try:
        if attempt.borrow is None or folder not in ("data", "action"):
            raise ValueError(f"attempt {attempt.aid} has no store folder {folder!r} to lend")
        attempt.borrow(folder)
    except Exception as e:  # the worker's write fails with this, not the whole replica
        reply["error"] = f"{type(e).__name__}: {e}"
    return (json.dumps(reply, separators=(",", ":")) + "\n").encode()


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
