"""Talking to the Docker engine without holding a thread per running container.

- :class:`EngineCalls`: short Engine API calls (create, start, kill, remove, inspect) run on a
  pool of this backend's own, never asyncio's default executor, so nothing else a run does can
  queue behind them, and a call in flight always finishes (a cancelled ``start`` must not leave
  a container running that nobody stops).
- :class:`ExitWatch`: one Engine events stream per run, filtered by the run's label, tells when
  each container exits (and whether it was OOM-killed). Waiting for a container is waiting for
  a future: any number of containers can run at once with one thread watching them all.
- :class:`Slots`: the one limit on how many containers of a run run at once
  (``max_concurrent_actions``); a container waiting for its children lends its slot to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import docker
import docker.errors

log = logging.getLogger("flyte.docker")
T = TypeVar("T")

#: Threads for Engine API calls: enough to stop a fan-out of 100 containers in parallel.
CALL_THREADS = 32
#: How long the watch tries to reach an engine that went away before it fails every attempt.
ENGINE_GONE_SECONDS = 10.0
#: How long a container killed by a signal waits for its ``oom`` event after its ``die``.
OOM_EVENT_GRACE = 1.0
#: The exit code of a container killed with SIGKILL.
SIGKILLED = 128 + signal.SIGKILL


def sigkill_hint(code: int) -> str:
    """What to add to the message of a container that exited with ``code`` on its own, with no
    OOM reported: a SIGKILL (137) is most often an OOM kill all the same, since the engine starts
    watching a container for OOM kills only once its process runs."""
    if code != SIGKILLED:
        return ""
    return (" Code 137 is a SIGKILL, most often the kernel's OOM killer (one in a container's first moments "
            "goes unreported): if the task may use more than its memory limit, raise Resources(memory=...).")


class EngineGone(Exception):
    """The Docker engine stopped answering (restarted or died) while containers ran."""


class EngineCalls:
    """Runs blocking ``docker`` SDK calls on a dedicated thread pool; see the module doc."""

    def __init__(self, threads: int = CALL_THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="flyte-docker-api")

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the pool. If the caller is cancelled meanwhile, the call still
        completes before the cancellation goes on (its effect, e.g. a started container, is then
        known to whoever cleans up)."""
        fut = asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            with contextlib.suppress(BaseException):
                await fut
            raise

    def close(self) -> None:
        """Let calls in flight finish; accept no more."""
        self._pool.shutdown(wait=False)


class ExitWatch:
    """Follows one run's containers through the engine's event stream (``die`` and ``oom`` events
    filtered by ``label``); :meth:`exited` gives a future of a container's exit code and
    :meth:`oom_killed` tells whether the kernel killed one of its processes for memory.

    When the stream breaks (the engine restarted or died) it reconnects, replaying events from
    where it stopped, and settles containers that vanished meanwhile; if the engine stays away for
    :data:`ENGINE_GONE_SECONDS`, every waiting future fails with :class:`EngineGone`. Each break is
    remembered (:meth:`broke_since`): a container that ends without an outcome after one was
    stopped by the restart, not by its task.
    """

    def __init__(self, connect: Callable[[], docker.DockerClient], labels: list[str],
                 loop: asyncio.AbstractEventLoop) -> None:
        self._connect = connect
        self._labels = labels  # every one must match (the engine ANDs label filters)
        self._loop = loop
        self._waiting: dict[str, asyncio.Future[int]] = {}
        self._exited: dict[str, int] = {}  # exits seen before anyone asked (rare: short containers)
        self._oom: set[str] = set()  # containers the engine reported an OOM kill for
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._client: docker.DockerClient | None = None
        self._stream: Any = None
        self._since = time.time() - 1
        self._thread = threading.Thread(target=self._main, name="flyte-docker-events", daemon=True)
        self._started = threading.Event()
        self._breaks: list[float] = []  # time.monotonic() of each break of the stream

    def start(self) -> None:
        """Open the stream (before any container of the run exists, so no exit is missed)."""
        self._client = self._connect()
        self._stream = self._open(self._client)
        self._thread.start()

    def exited(self, cid: str) -> asyncio.Future[int]:
        """A future of container ``cid``'s exit code; ask before starting the container."""
        with self._lock:
            fut = self._waiting.get(cid)
            if fut is None:
                fut = self._waiting[cid] = self._loop.create_future()
                if cid in self._exited:
                    fut.set_result(self._exited.pop(cid))
            return fut

    async def oom_killed(self, cid: str, code: int, killed_here: bool = False) -> bool:
        """Whether the engine reported an OOM kill in container ``cid``, which exited with ``code``
        (``killed_here``: this process killed it, so no OOM is waited for).

        The container's own ``State.OOMKilled`` is not enough: Docker 20.10 carries the flag from
        the OOM to the exit through one variable shared by all containers, so when several are
        OOM-killed at once one of them can be recorded without it (1 in 60 here, six at a time).
        Its ``oom`` event is not lost that way. It usually comes before the ``die``, but the
        runtime's OOM and exit notices race: a container that died of a SIGKILL (137) nobody here
        sent waits a moment for it.
        """
        deadline = time.monotonic() + OOM_EVENT_GRACE
        while True:
            with self._lock:
                if cid in self._oom:
                    return True
            if killed_here or code != SIGKILLED or time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)

    def broke_since(self, since: float) -> bool:
        """Whether the stream broke (the engine restarted, died or dropped us) after ``since``
        (a ``time.monotonic()`` value)."""
        with self._lock:
            return any(t >= since for t in self._breaks)

    def forget(self, cid: str) -> None:
        """Stop following ``cid`` (it is removed)."""
        with self._lock:
            self._waiting.pop(cid, None)
            self._exited.pop(cid, None)
            self._oom.discard(cid)

    def close(self) -> None:
        """End the stream and its thread."""
        self._stop.set()
        with contextlib.suppress(Exception):
            if self._stream is not None:
                self._stream.close()
        self._thread.join(timeout=5)
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()

    # --- the watching thread -------------------------------------------------------------------

    def _open(self, client: docker.DockerClient) -> Any:
        return client.api.events(since=int(self._since), decode=True,
                                 filters={"type": "container", "event": ["die", "oom"], "label": self._labels})

    def _main(self) -> None:
        while not self._stop.is_set():
            try:
                for ev in self._stream:
                    self._since = max(self._since, float(ev.get("time", 0)))
                    actor = ev.get("Actor") or {}
                    cid = str(ev.get("id") or actor.get("ID"))
                    if (ev.get("Action") or ev.get("status")) == "oom":
                        with self._lock:
                            self._oom.add(cid)
                        continue
                    self._settle(cid, int((actor.get("Attributes") or {}).get("exitCode", -1)))
            except Exception as e:  # the connection broke: the engine restarted or died
                log.debug("docker event stream ended: %s", e)
            if self._stop.is_set():
                return
            with self._lock:
                self._breaks.append(time.monotonic())
            self._reconnect()

    def _reconnect(self) -> None:
        """Reopen the stream after it broke; settle what ended meanwhile, or fail everything."""
        deadline = time.monotonic() + ENGINE_GONE_SECONDS
        while not self._stop.is_set():
            try:
                client = self._connect()
                client.ping()
                self._stream = self._open(client)
                if self._client is not None:
                    with contextlib.suppress(Exception):
                        self._client.close()
                self._client = client
                self._settle_vanished(client)
                return
            except Exception as e:
                if time.monotonic() > deadline:
                    self._fail_all(EngineGone(f"the Docker engine stopped answering for {ENGINE_GONE_SECONDS:g} s "
                                              f"(it restarted or died: {e})"))
                    deadline = time.monotonic() + ENGINE_GONE_SECONDS
                self._stop.wait(0.5)

    def _settle_vanished(self, client: docker.DockerClient) -> None:
        """After a reconnect: a container the engine no longer has, or that no longer runs, ended."""
        with self._lock:
            watched = [cid for cid, f in self._waiting.items() if not f.done()]
        for cid in watched:
            try:
                state = client.api.inspect_container(cid)["State"]
            except docker.errors.NotFound:
                self._fail(cid, EngineGone("the Docker engine restarted and its container is gone"))
                continue
            except docker.errors.APIError:
                continue
            if not state.get("Running") and state.get("Status") != "created":
                self._settle(cid, int(state.get("ExitCode", -1)))

    def _settle(self, cid: str, code: int) -> None:
        with self._lock:
            fut = self._waiting.get(cid)
            if fut is None:
                self._exited[cid] = code
                return
        self._loop.call_soon_threadsafe(_set_result, fut, code)

    def _fail(self, cid: str, error: Exception) -> None:
        with self._lock:
            fut = self._waiting.get(cid)
        if fut is not None:
            self._loop.call_soon_threadsafe(_set_exception, fut, error)

    def _fail_all(self, error: Exception) -> None:
        with self._lock:
            futs = list(self._waiting.values())
        for fut in futs:
            self._loop.call_soon_threadsafe(_set_exception, fut, error)


def _set_result(fut: asyncio.Future[int], code: int) -> None:
    if not fut.done():
        fut.set_result(code)


def _set_exception(fut: asyncio.Future[int], error: Exception) -> None:
    if not fut.done():
        fut.set_exception(error)


def default_concurrency() -> int:
    """How many containers a run may run at once unless told: sized to the machine (16 per CPU,
    at most one per 128 MiB of memory, at least 8)."""
    cpus = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 16 * 1024**3
    return max(8, min(16 * cpus, memory // (128 * 1024**2)))


class Slots:
    """At most ``limit`` running containers that are not waiting for children.

    A container that waits for its children (its task called others over the channel) lends its
    slot: a parent and its children never deadlock, however deep the nesting. When it stops
    waiting it takes its slot back at once, so the limit may be briefly exceeded by parents
    resuming.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"max_concurrent_actions must be at least 1, got {limit}")
        self.limit = limit
        self.used = 0
        self._held: dict[str, bool] = {}  # action -> holds its slot (False: lent)
        self._queue: list[asyncio.Future[None]] = []

    async def acquire(self, action: str) -> None:
        """Wait for a slot for ``action``'s container."""
        while self.used >= self.limit:
            fut = asyncio.get_running_loop().create_future()
            self._queue.append(fut)
            try:
                await fut
            except asyncio.CancelledError:
                if fut in self._queue:
                    self._queue.remove(fut)
                elif fut.done() and not fut.cancelled():
                    self._wake()  # it was woken for a free slot: pass the wake on
                raise
        self.used += 1
        self._held[action] = True

    def release(self, action: str) -> None:
        """``action``'s container ended: free its slot (unless lent)."""
        if self._held.pop(action, False):
            self._free()

    def waiting(self, action: str, waiting: bool) -> None:
        """The channel's news: ``action`` waits for children (lend its slot) or stops waiting."""
        held = self._held.get(action)
        if held is None:
            return
        if waiting and held:
            self._held[action] = False
            self._free()
        elif not waiting and not held:
            self._held[action] = True
            self.used += 1

    def _free(self) -> None:
        self.used -= 1
        self._wake()

    def _wake(self) -> None:
        while self._queue:
            fut = self._queue.pop(0)
            if not fut.done():
                fut.set_result(None)
                break
