"""The host side of the channel: how task bodies running in other processes (worker processes,
containers) start child actions of their run.

A :class:`ChannelServer` listens on a unix socket in a private directory (mode 0700), on the run's
event loop; or, for workers on other machines (pods on other nodes), on a TCP port of
``tcp_host``, its address then written ``tcp://HOST:PORT``. Either way every worker
authenticates with its attempt's token. Messages are newline-delimited JSON objects carrying an
``id``; replies echo it, and requests on one connection are served concurrently, so replies may
come in any order.

- ``hello`` {token, action, attempt} -> {ok: true}: must be the first message. The token is an
  HMAC of the action and attempt under a random per-run key (:meth:`ChannelServer.token_for`), so
  a worker can only speak for the one attempt it was started for, and only while it runs.
- ``call`` {parent, task: {module, name, file}, inputs, group} -> {outputs} or
  {error: ErrorInfo, retries_exhausted}: run a child of ``parent``, which must be the connection's
  own action. The task is found by reference in this (host) process.
- ``trace_started`` {parent, name} -> {action}; ``trace_finished`` {action, started, error|null} -> {}.
- ``cancel`` {target}: abort the child action started by request ``target`` (no reply).
- ``finished`` {} -> {}: the worker's outcome (and whatever else its backend collects) is written;
  the backend may take the attempt as over without waiting to see the process end (a pod's
  status reaches the API only on the kubelet's next relist, up to a second later).

When a connection ends (the worker exited or was killed), the child actions it started are
cancelled, which stops their workers in turn: nothing outlives the action that started it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from flyte_core.errors.core import BaseRuntimeError, CodeLoadError, TaskInterruptedError
from flyte_core.errors.info import ErrorInfo
from flyte_core.run.failures import to_exception
from flyte_core.storage.storeview import refers_to_store
from flyte_core.task.template import TaskRef, TaskTemplate
from flyte_core.worker.channel_errors import error_from_dict, error_to_dict
from flyte_core.worker.findtask import find_task

if TYPE_CHECKING:
    from flyte_core.run.backend import RunController

#: Largest message accepted: inline inputs may reach a task's max_inline_io_bytes (10 MB by
#: default), and JSON may double that.
MAX_MESSAGE = 64 * 1024 * 1024
#: Unix socket paths longer than this do not fit ``sockaddr_un`` on every platform.
#: Longest unix socket path used (the kernel allows about 107 bytes).
MAX_SOCKET_PATH = 100
_MAX_SOCKET_PATH = MAX_SOCKET_PATH

#: Answers whether ``(action, attempt)`` is currently running on the backend that owns the server.
IsRunning = Callable[[str, int], bool]
#: Told ``(action, True)`` when an action starts waiting for children over the channel (its first
#: call in flight) and ``(action, False)`` when it stops (its last call ended), so a backend that
#: bounds running workers can lend a waiting worker's slot to its children.
OnWaiting = Callable[[str, bool], None]
#: Told ``(action, attempt)`` when that attempt's worker says its outcome is written (``finished``).
OnFinished = Callable[[str, int], None]
#: ``outputs_for(action, outputs)``: the output literals of a child as ``action``'s worker receives them
#: (run in a thread: it may touch the data store). Called only for outputs that refer to the store
#: (:func:`~flyte_core.storage.storeview.refers_to_store`); plain values reach the worker as they are.
OutputsFor = Callable[[str, dict[str, Any]], dict[str, Any]]


class _Refused(Exception):
    """A request the channel does not allow (bad token, foreign parent, unknown operation)."""


class _Conn:
    """One worker's connection: who it speaks for, and the requests and traces it has open."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.action = ""
        self.attempt = 0
        self.serving: asyncio.Task[Any] | None = asyncio.current_task()
        self.requests: dict[Any, asyncio.Task[None]] = {}
        self.traces: dict[str, str] = {}
        self.calls = 0
        self._lock = asyncio.Lock()

    def track(self, rid: Any, task: asyncio.Task[None]) -> None:
        """Remember a request's task until it ends (so ``cancel`` and disconnects can stop it)."""
        self.requests[rid] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self.requests.get(rid) is done:
                del self.requests[rid]

        task.add_done_callback(forget)

    async def send(self, msg: dict[str, Any]) -> None:
        """Write one message (whole: concurrent replies must not interleave)."""
        data = (json.dumps(msg, separators=(",", ":")) + "\n").encode()
        async with self._lock:
            self.writer.write(data)
            await self.writer.drain()


class ChannelServer:
    """Serves nested task calls of one run's out-of-process task bodies.

    ``controller`` is the run's :class:`~flyte_core.run.controller.Controller` (``BackendRun.controller``);
    ``is_running`` tells which action attempts are alive; ``code_root`` is where task files named
    by reference are found; ``on_waiting`` (optional) hears when actions wait for children and
    ``on_finished`` (optional) when a worker says its outcome is written. With
    ``import_missing`` False only tasks of modules this process has already imported are served
    (for workers that must not make the host import code). With ``tcp_host`` it listens on a
    free TCP port of that address instead of a unix socket. With ``socket_dir`` the socket is
    made in that folder, connectable by anyone who can reach the folder (workers in containers
    may run as another user; each still needs its attempt's token), unless its path would be too
    long for a unix socket: then it goes to a private folder as usual (see :attr:`path`).
    """

    def __init__(self, controller: RunController | None, *, is_running: IsRunning, code_root: str,
                 on_waiting: OnWaiting | None = None, import_missing: bool = True,
                 tcp_host: str | None = None, socket_dir: str | None = None,
                 on_finished: OnFinished | None = None, outputs_for: OutputsFor | None = None) -> None:
        self._controller = controller
        self._is_running = is_running
        self._on_waiting = on_waiting
        self._code_root = code_root
        self._import_missing = import_missing
        self._tcp_host = tcp_host
        self._socket_dir = socket_dir
        self._on_finished = on_finished
        self._outputs_for = outputs_for
        self._key = secrets.token_bytes(32)
        self._dir: str | None = None
        self._path: str | None = None
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[_Conn] = set()

    def _ctrl(self) -> RunController:
        if self._controller is None:
            raise RuntimeError("this channel server has no controller (BackendRun.controller) to relay calls to")
        return self._controller

    @property
    def path(self) -> str:
        """The socket's path, or ``tcp://HOST:PORT`` (valid after :meth:`start`)."""
        if self._path is None:
            raise RuntimeError("ChannelServer.start() has not been called")
        return self._path

    def token_for(self, action: str, attempt: int) -> str:
        """The token the worker running ``attempt`` of ``action`` authenticates with."""
        return hmac.new(self._key, f"{action}#{attempt}".encode(), hashlib.sha256).hexdigest()

    async def start(self) -> None:
        """Create the socket (in a private directory unless ``socket_dir``) and start listening
        (on the running loop)."""
        if self._tcp_host is not None:
            self._server = await asyncio.start_server(self._serve, self._tcp_host, 0, limit=MAX_MESSAGE)
            port = self._server.sockets[0].getsockname()[1]
            host = f"[{self._tcp_host}]" if ":" in self._tcp_host else self._tcp_host
            self._path = f"tcp://{host}:{port}"
            return
        if self._socket_dir is not None:
            path = os.path.join(self._socket_dir, "channel.sock")
            if len(path.encode()) <= _MAX_SOCKET_PATH:
                with suppress(FileNotFoundError):
                    os.unlink(path)
                self._server = await asyncio.start_unix_server(self._serve, path=path, limit=MAX_MESSAGE)
                os.chmod(path, 0o777)
                self._path = path
                return
        self._dir = tempfile.mkdtemp(prefix="flyte-ch-")  # mkdtemp makes it 0700: only we connect
        path = os.path.join(self._dir, "channel.sock")
        if len(path.encode()) > _MAX_SOCKET_PATH:  # TMPDIR may be long
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = tempfile.mkdtemp(prefix="flyte-ch-", dir="/tmp")
            path = os.path.join(self._dir, "channel.sock")
        self._server = await asyncio.start_unix_server(self._serve, path=path, limit=MAX_MESSAGE)
        self._path = path

    async def release(self, action: str) -> None:
        """Drop the connections of ``action`` (its worker ended) and cancel what they started."""
        await self._drop([c for c in self._conns if c.action == action])

    async def close(self) -> None:
        """Stop listening, drop every connection and remove the socket directory."""
        if self._server is not None:
            self._server.close()
        await self._drop(list(self._conns))
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        elif self._path is not None and not self._path.startswith("tcp://"):
            with suppress(FileNotFoundError):
                os.unlink(self._path)

    # --- connections -------------------------------------------------------------------------

    async def _drop(self, conns: list[_Conn]) -> None:
        tasks = [c.serving for c in conns if c.serving is not None and not c.serving.done()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio's stream server reports a connection task that ends cancelled as an error
        # ("Exception in callback StreamReaderProtocol..."); cancelling it is how connections are
        # dropped (abort, a worker ending, the run ending), so it ends normally instead.
        with suppress(asyncio.CancelledError):
            await self._serve_conn(reader, writer)

    async def _serve_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(writer)
        self._conns.add(conn)
        try:
            hello = await _read(reader)
            if hello is None:
                return
            try:
                conn.action, conn.attempt = self._authenticate(hello)
            except _Refused as e:
                await conn.send({"id": hello.get("id"), "error": _refusal(e)})
                return
            await conn.send({"id": hello.get("id"), "ok": True})
            while (msg := await _read(reader)) is not None:
                if msg.get("op") == "cancel":
                    target = conn.requests.get(_request_id(msg.get("target")))
                    if target is not None:
                        target.cancel()
                    continue
                conn.track(_request_id(msg.get("id")), asyncio.create_task(self._handle(conn, msg)))
        except (OSError, ValueError):  # the worker went away, or sent garbage: end its connection
            pass
        finally:
            self._conns.discard(conn)
            pending = list(conn.requests.values())
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            self._end_traces(conn)
            writer.close()

    def _authenticate(self, hello: dict[str, Any]) -> tuple[str, int]:
        action, attempt, token = hello.get("action"), hello.get("attempt"), hello.get("token")
        if hello.get("op") != "hello" or not isinstance(action, str) or not isinstance(attempt, int) \
                or not isinstance(token, str):
            raise _Refused("the first message must be 'hello' with token, action and attempt")
        if not hmac.compare_digest(token.encode(), self.token_for(action, attempt).encode()):
            raise _Refused(f"invalid token for action {action} attempt {attempt}")
        if not self._is_running(action, attempt):
            raise _Refused(f"action {action} attempt {attempt} is not running")
        return action, attempt

    def _end_traces(self, conn: _Conn) -> None:
        """Traced calls still open when a worker ends can never finish: record them as failed."""
        for action, name in conn.traces.items():
            err = TaskInterruptedError(f"The worker of action {conn.action} ended inside traced call '{name}'.",
                                       action)
            with suppress(Exception):
                self._ctrl().trace_finished(action, time.time(), err)
        conn.traces.clear()

    # --- requests ----------------------------------------------------------------------------

    async def _handle(self, conn: _Conn, msg: dict[str, Any]) -> None:
        from flyte_core.run.body import error_info

        reply: dict[str, Any]
        try:
            reply = await self._dispatch(conn, msg)
        except _Refused as e:
            reply = {"error": _refusal(e)}
        except CodeLoadError as e:
            reply = {"error": error_to_dict(ErrorInfo("ModuleLoadError", "user", str(e), action=conn.action))}
        except BaseRuntimeError as e:  # the child failed: its ErrorInfo, as call_encoded raised it
            reply = {"error": error_to_dict(error_info(e, conn.action)),
                     "retries_exhausted": bool(getattr(e, "retries_exhausted", False))}
        except Exception as e:
            reply = {"error": error_to_dict(error_info(e, conn.action))}
        with suppress(OSError, RuntimeError):  # the worker may be gone; nobody is left to tell
            await conn.send({"id": msg.get("id"), **reply})

    async def _dispatch(self, conn: _Conn, msg: dict[str, Any]) -> dict[str, Any]:
        op = msg.get("op")
        if op == "call":
            parent = self._check_parent(conn, msg.get("parent"))
            task = self._resolve(msg.get("task"))
            inputs, group = msg.get("inputs"), msg.get("group")
            if not isinstance(inputs, dict) or not (group is None or isinstance(group, str)):
                raise _Refused("'call' needs an inputs object and a string or null group")
            custom = msg.get("custom_context")
            if custom is not None and not (isinstance(custom, dict)
                                           and all(isinstance(v, str) for v in custom.values())):
                raise _Refused("'call' needs custom_context as an object of strings, or null")
            overrides = msg.get("overrides")
            if isinstance(overrides, dict) and overrides:
                task = task.override(**_overrides(overrides))
            self._waiting(conn, 1)
            try:
                outputs = await self._ctrl().call_encoded(task, parent, inputs, group, custom)
            finally:
                self._waiting(conn, -1)
            if self._outputs_for is not None and refers_to_store(outputs):  # see OutputsFor
                return {"outputs": await asyncio.to_thread(self._outputs_for, conn.action, dict(outputs))}
            return {"outputs": dict(outputs)}
        if op == "trace_started":
            parent = self._check_parent(conn, msg.get("parent"))
            name = str(msg.get("name"))
            action: str = self._ctrl().trace_started_in(parent, name)
            conn.traces[action] = name
            return {"action": action}
        if op == "trace_finished":
            action = str(msg.get("action"))
            traced = conn.traces.pop(action, None)
            if traced is None:
                raise _Refused(f"'{action}' is not a traced call this worker started")
            err = msg.get("error")
            exc = to_exception(error_from_dict(err), f"trace:{traced}") if isinstance(err, dict) else None
            self._ctrl().trace_finished(action, float(msg.get("started") or 0.0), exc)
            return {}
        if op == "durable":
            parent = self._check_parent(conn, msg.get("parent"))
            durable, index, value = msg.get("name"), msg.get("index"), msg.get("value")
            if not isinstance(durable, str) or not isinstance(index, int) or not isinstance(value, int | float):
                raise _Refused("'durable' needs a name, an integer index and a number value")
            return {"value": self._ctrl().durable_value(parent, durable, index, float(value))}
        if op == "finished":
            if self._on_finished is not None:
                self._on_finished(conn.action, conn.attempt)
            return {}
        raise _Refused(f"unknown operation {op!r}")

    def _waiting(self, conn: _Conn, delta: int) -> None:
        conn.calls += delta
        if self._on_waiting is not None and conn.calls == (1 if delta > 0 else 0):
            self._on_waiting(conn.action, delta > 0)

    def _check_parent(self, conn: _Conn, parent: Any) -> str:
        if parent != conn.action:
            raise _Refused(f"action {conn.action} may only start children of itself, not of {parent!r}")
        if not self._is_running(conn.action, conn.attempt):
            raise _Refused(f"action {conn.action} attempt {conn.attempt} is no longer running")
        if self._controller is None:
            raise _Refused("this run's backend does not serve nested task calls")
        return conn.action

    def _resolve(self, raw: Any) -> TaskTemplate[Any, Any]:
        if not isinstance(raw, dict) or not isinstance(raw.get("module"), str) or not isinstance(raw.get("name"), str):
            raise _Refused("'call' needs task: {module, name, file}")
        file = raw.get("file")
        ref = TaskRef(raw["module"], raw["name"], file if isinstance(file, str) else None)
        if not self._import_missing and ref.module not in sys.modules:
            raise CodeLoadError(f"Module '{ref.module}' is not loaded in the controller's process; this "
                                "channel only serves tasks of modules the controller has imported.")
        return find_task(ref, self._code_root)


async def _read(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next message, or None at end of stream; ValueError for anything but a JSON object."""
    line = await reader.readline()
    if not line:
        return None
    msg = json.loads(line)
    if not isinstance(msg, dict):
        raise ValueError("channel messages must be JSON objects")
    return msg


def _overrides(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode :func:`~flyte_core.worker.channel_client.task_overrides` (JSON only: workers are not
    trusted to send objects this process would unpickle)."""
    from flyte_core.task.overrides import decode

    try:
        return decode(raw)
    except (TypeError, ValueError) as e:
        raise _Refused(f"invalid overrides: {e}") from None


def _request_id(rid: Any) -> int | str:
    if not isinstance(rid, int | str):
        raise ValueError("request ids must be numbers or strings")
    return rid


def _refusal(e: _Refused) -> dict[str, Any]:
    return error_to_dict(ErrorInfo("ChannelPermissionError", "system", f"Channel request refused: {e}."))
