"""The worker side of the channel: task calls made in a worker process become child actions of
the same run, started by the run's controller in the host process (see :mod:`flyte_core.worker.channel_server`).

Also how a task is named for another process (:func:`task_ref`, :func:`task_overrides`); the
entrypoint finds it again from that name (:func:`flyte_core.worker.findtask.find_task`).

Kept light on imports: every worker process loads this module before running its task.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import socket
import sys
import threading
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from flyte_core.errors.core import RuntimeSystemError, SyncTaskCallInAsyncContextError
from flyte_core.run.failures import to_exception
from flyte_core.runtime import context
from flyte_core.task.template import TaskRef, TaskTemplate
from flyte_core.worker.channel_errors import error_from_dict, error_to_dict

if TYPE_CHECKING:
    # concurrent.futures imports logging: a worker imports it when its task first calls another.
    from concurrent.futures import Future

    from flyte_core.runtime.loopthread import LoopThread
    from flyte_core.types.engine import TypeEngine
    from flyte_core.types.transformer import ConversionContext

#: The name a worker loads a ``__main__`` script under, so its ``if __name__ == "__main__"`` block
#: does not run again; the same alias multiprocessing uses, so pickles of its classes resolve.
MAIN_ALIAS = "__mp_main__"


# --- naming tasks across processes ------------------------------------------------------------


def task_ref(task: TaskTemplate[Any, Any], code_root: str) -> TaskRef:
    """Where another process finds ``task``: its module and name, plus its file when the module
    cannot be imported by name (a ``__main__`` script, or a file loaded under another name).

    The file is relative to ``code_root`` when inside it, so a container can mount the code
    elsewhere.
    """
    return _func_ref(task.func, code_root)


@functools.lru_cache(maxsize=4096)  # backends ask for every attempt; it depends only on these two
def _func_ref(func: Callable[..., Any], code_root: str) -> TaskRef:
    module = "__main__" if func.__module__ == MAIN_ALIAS else func.__module__
    mod = sys.modules.get(func.__module__)
    path = getattr(mod, "__file__", None) or getattr(getattr(func, "__code__", None), "co_filename", None)
    file: str | None = None
    if path and os.path.isfile(path) and (module == "__main__" or not _importable_as(module, path)):
        path, root = os.path.abspath(path), os.path.abspath(code_root)
        file = os.path.relpath(path, root) if path.startswith(root + os.sep) else path
    return TaskRef(module, func.__name__, file)


def _importable_as(module: str, path: str) -> bool:
    """True when ``path`` is where ``import module`` would find it (``a/b.py`` for ``a.b``)."""
    stem = os.path.splitext(os.path.abspath(path))[0]
    if os.path.basename(stem) == "__init__":
        stem = os.path.dirname(stem)
    return stem.endswith(os.sep + module.replace(".", os.sep))


def task_overrides(task: TaskTemplate[Any, Any]) -> dict[str, Any] | None:
    """What ``override(...)`` changed in ``task`` (JSON, see :mod:`flyte_core.task.overrides`), or None for a
    task as defined. The host finds tasks by reference, so without these a child called as
    ``t.override(retries=3, resources=...)(...)`` would run with ``t``'s settings."""
    if not task.overrides:
        return None
    from flyte_core.task.overrides import encode

    return encode(task.overrides)


def is_nested_function(task: TaskTemplate[Any, Any]) -> bool:
    """True for tasks defined inside a function body, which no other process can import."""
    return "<locals>" in getattr(task.func, "__qualname__", "")


# --- the dispatcher a worker's task bodies call ------------------------------------------------


class ChannelDispatcher:
    """Turns task calls in a worker into child actions, over one connection (unix socket or TCP) to the
    host's :class:`~flyte_core.worker.channel_server.ChannelServer`.

    Thread-safe: writes are serialised by a lock and a reader thread hands each reply to the
    future of its request, so sync bodies may call from many threads and async bodies may have
    many calls in flight. The connection opens on first use (most tasks never call others).
    """

    def __init__(
        self, *, path: str, token: str, action: str, attempt: int, code_root: str,
        engine: TypeEngine, conversion: ConversionContext,
    ) -> None:
        self.path = path
        self.action = action
        self.attempt = attempt
        self.code_root = code_root
        self._token = token
        self._engine = engine
        self._conv = conversion
        self._sock: socket.socket | None = None
        self._connect_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: dict[int, Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._closed: str | None = None
        self._loop: LoopThread | None = None

    # --- Dispatcher ------------------------------------------------------------------------------

    def call_sync(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        """Run a child action from a sync task body; blocks this thread until it ends."""
        if _loop_running():  # same rule as the in-process controller: blocking the loop would stall siblings
            kind = "an async task" if task.is_async else "a sync task"
            raise SyncTaskCallInAsyncContextError(
                f"Task '{task.name}' is {kind} called without await from async code; "
                f"use 'await {task.short_name}.aio(...)'" + (" or 'await ...' on the call." if task.is_async else ".")
            )
        msg = self._call_message(task, args, kwargs)
        return self._result(task, self._request(msg).result())

    def call_async(
        self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Coroutine[Any, Any, Any]:
        """An awaitable child action; cancelling it cancels the child action in the host."""
        msg = self._call_message(task, args, kwargs)  # bind errors surface at the call site

        async def run() -> Any:
            import asyncio  # loaded already: this runs on its loop

            fut = self._request(msg)
            try:
                reply = await asyncio.wrap_future(fut)
            except asyncio.CancelledError:
                self._pending.pop(msg["id"], None)
                try:  # tell the host to abort the child; best effort, the worker may be ending
                    self._send({"id": next(self._ids), "op": "cancel", "target": msg["id"]})
                except RuntimeSystemError:
                    pass
                raise
            return self._result(task, reply)

        return run()

    def trace_started(self, name: str) -> str:
        """Record the start of a ``@flyte.trace`` call as a child action; returns its id."""
        reply = self._request({"op": "trace_started", "parent": self._parent(), "name": name}).result()
        self._raise_for(reply, f"trace:{name}")
        return str(reply["action"])

    def trace_finished(self, action: str, started: float, error: BaseException | None) -> None:
        """Record how a traced call ended."""
        from flyte_core.run.body import error_info

        info = error_to_dict(error_info(error, action)) if error is not None else None
        reply = self._request({"op": "trace_finished", "action": action, "started": started,
                               "error": info}).result()
        self._raise_for(reply, f"trace:{action}")

    def runs_inline(self, task: TaskTemplate[Any, Any]) -> bool | None:
        """Never: every child runs where the host's backend puts it, not in this worker's thread."""
        return False

    def waiting(self) -> AbstractContextManager[None]:
        """Nothing to hold: the channel server tells the backend when this worker waits."""
        return contextlib.nullcontext()

    def durable_value(self, parent: str, name: str, index: int, proposed: float) -> float:
        """The recorded value of a ``flyte.durable`` call (see Controller.durable_value)."""
        reply = self._request({"op": "durable", "parent": parent, "name": name, "index": index,
                               "value": proposed}).result()
        self._raise_for(reply, f"durable:{name}")
        return float(reply["value"])

    @property
    def loop(self) -> LoopThread:
        """An event loop thread for sync bodies that drive async helpers (``flyte.map``)."""
        with self._connect_lock:
            if self._loop is None:
                from flyte_core.runtime.loopthread import LoopThread

                self._loop = LoopThread(f"flyte-worker-{self.action}")
            return self._loop

    def close(self) -> None:
        """Close the connection and stop the helper loop, if they were started."""
        with self._connect_lock:
            sock, self._sock = self._sock, None
            loop, self._loop = self._loop, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if loop is not None:
            loop.stop()

    # --- internals ---------------------------------------------------------------------------

    def _parent(self) -> str:
        ctx = context.current()
        return ctx.action.name if ctx is not None else self.action

    def _call_message(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...],
                      kwargs: Mapping[str, Any]) -> dict[str, Any]:
        bound = task.interface.bind(task.name, args, kwargs)
        inputs = self._engine.encode_inputs(task.name, task.interface, bound, self._conv)
        ref = task_ref(task, self.code_root)
        ctx = context.current()
        return {"id": next(self._ids), "op": "call", "parent": self._parent(),
                "task": {"module": ref.module, "name": ref.name, "file": ref.file},
                "inputs": inputs, "group": ctx.group_data if ctx is not None else None,
                "custom_context": dict(ctx.custom_context) if ctx is not None else None,
                "overrides": task_overrides(task)}

    def _result(self, task: TaskTemplate[Any, Any], reply: dict[str, Any]) -> Any:
        self._raise_for(reply, task.name)
        return self._engine.decode_output(task.name, task.interface, reply.get("outputs") or {}, self._conv)

    @staticmethod
    def _raise_for(reply: dict[str, Any], name: str) -> None:
        err = reply.get("error")
        if err is not None:
            info = error_from_dict(err)
            raise to_exception(info, name, retries_exhausted=bool(reply.get("retries_exhausted"))) from None

    def _request(self, msg: dict[str, Any]) -> Future[dict[str, Any]]:
        """Send ``msg`` (given an id if it has none) and return the future of its reply."""
        from concurrent.futures import Future

        msg.setdefault("id", next(self._ids))
        fut: Future[dict[str, Any]] = Future()
        self._pending[msg["id"]] = fut
        try:
            self._send(msg)
        except BaseException:
            self._pending.pop(msg["id"], None)
            raise
        # The reader may have ended (failing every pending future) just before we registered.
        if self._closed is not None and self._pending.pop(msg["id"], None) is not None:
            fut.set_exception(self._lost(self._closed))
        return fut

    def _send(self, msg: dict[str, Any]) -> None:
        sock = self._connected()
        data = (json.dumps(msg, separators=(",", ":")) + "\n").encode()
        try:
            with self._write_lock:
                sock.sendall(data)
        except OSError as e:
            raise self._lost(f"sending to the run's controller failed: {e}") from None

    def _connected(self) -> socket.socket:
        with self._connect_lock:
            if self._sock is not None:
                return self._sock
            if self._closed is not None:
                raise self._lost(self._closed)
            try:
                sock = _connect(self.path)
            except OSError as e:
                raise self._lost(f"could not connect to the run's controller at {self.path}: {e}") from None
            try:
                rfile, reply = _hello(sock, self._token, self.action, self.attempt)
            except (OSError, ValueError) as e:
                sock.close()
                raise self._lost(f"could not connect to the run's controller at {self.path}: {e}") from None
            if reply.get("error") or not reply.get("ok"):
                sock.close()
                err = reply.get("error") or {}
                raise self._lost(f"the run's controller refused this worker: {err.get('message', reply)}")
            threading.Thread(target=self._read, args=(rfile,), name="flyte-channel", daemon=True).start()
            self._sock = sock
            return sock

    def _read(self, rfile: Any) -> None:
        """The reader thread: resolve each reply's future; fail all pending ones at the end."""
        reason = "the connection to the run's controller closed"
        try:
            for line in rfile:
                msg = json.loads(line)
                fut = self._pending.pop(msg.get("id"), None)
                if fut is not None:
                    _resolve(fut, msg)
        except (OSError, ValueError) as e:
            reason = f"{reason}: {e}"
        self._closed = reason
        with self._connect_lock:
            self._sock = None
        while True:
            try:
                _, fut = self._pending.popitem()
            except KeyError:
                break
            if not fut.done():
                fut.set_exception(self._lost(reason))

    def _lost(self, reason: str) -> RuntimeSystemError:
        return RuntimeSystemError("ChannelError", f"Action {self.action}: {reason}.", self.action)


def _loop_running() -> bool:
    """Whether this thread runs an asyncio event loop. A worker running a sync body never imports
    asyncio (~30 ms of every container's start-up); without it, no loop can be running."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _connect(address: str) -> socket.socket:
    """A connected socket to a channel address: a unix socket path or ``tcp://HOST:PORT``."""
    if address.startswith("tcp://"):
        host, _, port = address.removeprefix("tcp://").rpartition(":")
        sock = socket.create_connection((host.strip("[]"), int(port)))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small request/reply messages
        return sock
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(address)
    except OSError:
        sock.close()
        raise
    return sock


def _hello(sock: socket.socket, token: str, action: str, attempt: int) -> tuple[Any, dict[str, Any]]:
    """Send the ``hello`` that must open every connection; return the reader and the reply."""
    hello = {"id": 0, "op": "hello", "token": token, "action": action, "attempt": attempt}
    sock.sendall((json.dumps(hello) + "\n").encode())
    rfile = sock.makefile("rb")
    return rfile, json.loads(rfile.readline() or b"{}")


def tell_finished(address: str, token: str, action: str, attempt: int, timeout: float = 5.0) -> bool:
    """Tell the run's controller that this attempt's outcome is written (op ``finished``), so
    its backend need not wait to see the process end; True when the controller acknowledged.
    Best effort: the backend still learns of the end the slow way when this fails."""
    try:
        sock = _connect(address)
    except OSError:
        return False
    try:
        sock.settimeout(timeout)
        rfile, reply = _hello(sock, token, action, attempt)
        if reply.get("error") or not reply.get("ok"):
            return False
        sock.sendall(b'{"id":1,"op":"finished"}\n')
        reply = json.loads(rfile.readline() or b"{}")
        return reply.get("id") == 1 and not reply.get("error")
    except (OSError, ValueError):
        return False
    finally:
        sock.close()


#: TCP keepalive of a watch over TCP: a controller whose machine vanished (no FIN ever comes) is
#: noticed after about ``idle + interval * count`` seconds.
_KEEPALIVE = {"TCP_KEEPIDLE": 3, "TCP_KEEPINTVL": 2, "TCP_KEEPCNT": 3}


def watch_controller(address: str, token: str, action: str, attempt: int,
                     on_lost: Callable[[str], None]) -> threading.Thread | None:
    """Hold a connection to the run's controller open for as long as this attempt runs, and call
    ``on_lost(why)`` (from a daemon thread) when it ends: the controller died (kill -9, OOM, its
    machine went away), or it dropped the attempt (aborted, timed out). A worker calls it to stop
    itself, so nothing outlives the process driving the run; returns the thread, or None when the
    controller cannot be reached now (then nothing is watched)."""
    try:
        sock = _connect(address)
        if address.startswith("tcp://"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for name, value in _KEEPALIVE.items():
                if hasattr(socket, name):
                    sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
        rfile, reply = _hello(sock, token, action, attempt)
    except (OSError, ValueError) as e:
        on_lost(f"the run's controller cannot be reached ({e})")
        return None
    if reply.get("error") or not reply.get("ok"):
        sock.close()
        on_lost(f"the run's controller refused this attempt ({(reply.get('error') or {}).get('message', reply)})")
        return None

    def watch() -> None:
        try:
            while rfile.readline():  # the controller sends nothing on this connection: only its end
                pass
        except (OSError, ValueError):
            pass
        on_lost("the connection to the run's controller closed (it stopped, or it stopped this attempt)")

    thread = threading.Thread(target=watch, name=f"flyte-watch-{action}", daemon=True)
    thread.start()
    return thread


def _resolve(fut: Future[dict[str, Any]], reply: dict[str, Any]) -> None:
    """Give ``fut`` its reply, unless its caller cancelled it (an async call abandoned)."""
    from concurrent.futures import InvalidStateError  # already imported: ``fut`` is a Future

    try:
        fut.set_result(reply)
    except InvalidStateError:
        pass
