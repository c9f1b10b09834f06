"""Serving apps locally: ``flyte.serve(app_env)`` and ``flyte.with_servecontext(...).serve(app_env)``.

Every app runs as its own process, in its own process group: its ``command``/``args``, or for an
``@app_env.server`` function a Python process that imports the app's file and calls the function. Stopping
an app (``deactivate``, Ctrl-C in ``flyte serve``, the end of this interpreter) terminates the whole
group, then kills what is left after a grace period, so nothing keeps running.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

from flyte_apps.context import RAW_DATA_PATH_ENV
from flyte_apps.environment import AppEnvironment
from flyte_apps.parameters import RUNTIME_PARAMETERS_FILE, materialize
from flyte_core.extend import FlyteUsageError

ServeMode = Literal["local", "remote"]
T = TypeVar("T")
#: Set in an app's process: the name of the app it serves (so importing its file cannot serve it again).
CHILD_ENV = "_FLYTE_APP_SERVING"
_HOST = "localhost"

_active: dict[str, LocalApp] = {}  # served by this process, by app name (AppEndpoint, exit cleanup)
_active_lock = threading.Lock()


class _SyncAio(Generic[T]):
    """A sync callable with an ``.aio`` twin, as Flyte 2's syncified methods are."""

    def __init__(self, fn: Callable[..., T]) -> None:
        self._fn = fn
        functools.update_wrapper(self, fn)  # the wrapped function's name, doc and signature

    def __call__(self, *args: Any, **kwargs: Any) -> T:
        return self._fn(*args, **kwargs)

    async def aio(self, *args: Any, **kwargs: Any) -> T:
        """The same, without blocking the event loop."""
        return await asyncio.to_thread(self._fn, *args, **kwargs)


@runtime_checkable
class AppHandle(Protocol):
    """What serving returns: the app's name and URL, and how to start, probe and stop it."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def endpoint(self) -> str: ...

    def is_active(self) -> bool: ...

    def is_deactivated(self) -> bool: ...

    def activate(self, wait: bool = False) -> AppHandle: ...

    def deactivate(self, wait: bool = False) -> AppHandle: ...

    def ephemeral_ctx(self) -> AbstractAsyncContextManager[None]: ...

    def ephemeral_ctx_sync(self) -> AbstractContextManager[None]: ...


class LocalApp:
    """An app served by a local process (an :class:`AppHandle`)."""

    def __init__(self, app_env: AppEnvironment, serve: ServeContext) -> None:
        self._env = app_env
        self._serve = serve
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None
        self.activate = _SyncAio(self._activate)
        self.deactivate = _SyncAio(self._deactivate)

    @property
    def name(self) -> str:
        """The app's name."""
        return self._env.name

    @property
    def endpoint(self) -> str:
        """``http://localhost:PORT``."""
        return f"http://{_HOST}:{self._env.get_port().port}"

    @property
    def url(self) -> str:
        """Same as :attr:`endpoint`."""
        return self.endpoint

    @property
    def pid(self) -> int | None:
        """The process id of the app's process (its process group id too), while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def is_active(self) -> bool:
        """True when the app answers HTTP on its port (any status below 500, at the health-check path)."""
        try:
            with urllib.request.urlopen(self.endpoint + self._serve.health_check_path,
                                        timeout=self._serve.health_check_timeout) as resp:
                return int(resp.status) < 500
        except urllib.error.HTTPError as e:  # it answered, with an error status
            return e.code < 500
        except (urllib.error.URLError, OSError):
            return False

    def is_deactivated(self) -> bool:
        """True when the app's process is not running."""
        return self._process is None or self._process.poll() is not None

    def _activate(self, wait: bool = False) -> LocalApp:
        """Start the app's process if it is not running; with ``wait``, until it answers on its port."""
        if self.is_deactivated():
            self._start()
        if wait:
            deadline = time.monotonic() + self._serve.activate_timeout
            while not self.is_active():
                assert self._process is not None
                code = self._process.poll()
                if code is not None:
                    self._cleanup()
                    raise RuntimeError(f"App '{self.name}' exited with code {code} before it answered on "
                                       f"{self.endpoint}; see its output above.")
                if time.monotonic() > deadline:
                    self._deactivate(wait=True)
                    raise TimeoutError(f"App '{self.name}' did not answer on {self.endpoint} within "
                                       f"{self._serve.activate_timeout:g}s; it was stopped.")
                time.sleep(self._serve.health_check_interval)
        return self

    def _deactivate(self, wait: bool = False) -> LocalApp:
        """Stop the app: SIGTERM to its process group; with ``wait``, wait for it to end (SIGKILL after
        ``deactivate_timeout``)."""
        proc = self._process
        if proc is not None:
            _signal_group(proc.pid, signal.SIGTERM)
            if wait:
                try:
                    proc.wait(timeout=self._serve.deactivate_timeout)
                except subprocess.TimeoutExpired:
                    _signal_group(proc.pid, signal.SIGKILL)
                    proc.wait()
                _signal_group(proc.pid, signal.SIGKILL)  # whatever it started and left behind
                self._cleanup()
            else:
                threading.Thread(target=self._reap, args=(proc,), daemon=True,
                                 name=f"flyte-app-reap-{self.name}").start()
        return self

    def _reap(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            proc.wait(timeout=self._serve.deactivate_timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
        _signal_group(proc.pid, signal.SIGKILL)
        if self._process is proc:
            self._cleanup()

    @contextlib.asynccontextmanager
    async def ephemeral_ctx(self) -> AsyncIterator[None]:
        """Serve the app for the duration of an ``async with`` block."""
        try:
            await self.activate.aio(wait=True)
            yield
        finally:
            await self.deactivate.aio(wait=True)

    @contextlib.contextmanager
    def ephemeral_ctx_sync(self) -> Iterator[None]:
        """Serve the app for the duration of a ``with`` block."""
        try:
            self.activate(wait=True)
            yield
        finally:
            self.deactivate(wait=True)

    # --- the process -----------------------------------------------------------------------------

    def _start(self) -> None:
        env_ = self._env
        port = env_.get_port().port
        if _port_in_use(port):
            raise FlyteUsageError(f"App '{env_.name}': port {port} is already in use on this machine; stop what "
                                  "listens there or give the AppEnvironment another port=.")
        overrides = self._serve.parameter_values.get(env_.name, {})
        values = {p.name: materialize(env_.name, p, overrides.get(p.name)) for p in env_.parameters}
        self._dir = tempfile.mkdtemp(prefix=f"flyte-app-{env_.name}-")
        params_file = os.path.join(self._dir, "parameters.json")
        with open(params_file, "w") as f:
            json.dump(values, f)
        environ = {**os.environ, **(env_.env_vars or {}), **self._serve.env_vars,
                   **{p.env_var: values[p.name] for p in env_.parameters if p.env_var},
                   "_RUN_MODE": "local", RAW_DATA_PATH_ENV: self._serve.raw_data_path,
                   RUNTIME_PARAMETERS_FILE: params_file, CHILD_ENV: env_.name, "PYTHONUNBUFFERED": "1"}
        command = env_.local_command()
        if command is None:
            if env_._server is None:
                raise FlyteUsageError(f"App '{env_.name}' has no server function, command or args; decorate a "
                                      "function with @app_env.server or give command=/args=.")
            if env_._source_file is None or not os.path.isfile(env_._source_file):
                raise FlyteUsageError(f"App '{env_.name}': cannot tell which file defines it, so its server "
                                      "function cannot run in its own process; define it in a .py file.")
            command = [sys.executable, "-m", "flyte_apps.runner", env_._source_file, env_.name]
        try:
            self._process = subprocess.Popen(command, env=environ, start_new_session=True)
        except OSError as e:
            self._cleanup()
            raise FlyteUsageError(f"App '{env_.name}': cannot start {command[0]!r}: {e}") from None
        with _active_lock:
            _active[env_.name] = self

    def _cleanup(self) -> None:
        with _active_lock:
            if _active.get(self.name) is self:
                del _active[self.name]
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


class ServeContext:
    """How to serve apps (``flyte.with_servecontext(...)``); ``.serve(app_env)`` starts one.

    Locally (the only mode here) ``env_vars``, ``parameter_values``, the health-check and timeout
    settings and ``raw_data_path`` apply; deployment settings (version, project, copy_style, cluster, ...)
    are accepted for Flyte 2 code and have no effect.
    """

    def __init__(
        self, mode: ServeMode | None = None, *, version: str | None = None, copy_style: str = "loaded_modules",
        dry_run: bool = False, project: str | None = None, domain: str | None = None,
        env_vars: dict[str, str] | None = None, parameter_values: dict[str, dict[str, Any]] | None = None,
        cluster_pool: str | None = None, cluster: str | None = None, log_level: int | None = None,
        log_format: str = "console", user_log_level: int | None = None, interactive_mode: bool | None = None,
        copy_bundle_to: Any = None, deactivate_timeout: float | None = None, activate_timeout: float | None = None,
        health_check_timeout: float | None = None, health_check_interval: float | None = None,
        health_check_path: str | None = None, raw_data_path: str | None = None,
    ) -> None:
        if mode not in (None, "local", "remote"):
            raise ValueError(f"mode must be 'local' or 'remote', got {mode!r}")
        if mode == "remote":
            raise FlyteUsageError("flyte-core has no Flyte control plane to deploy apps to; serve them locally "
                                  "(mode='local', the default, or `flyte serve --local`).")
        if cluster and cluster_pool and cluster_pool != "default":
            raise ValueError(f"'cluster' ({cluster!r}) and 'cluster_pool' ({cluster_pool!r}) are mutually "
                             "exclusive; set only one.")
        self.mode: ServeMode = "local"
        self.env_vars = dict(env_vars or {})
        if log_level is not None:
            self.env_vars.setdefault("LOG_LEVEL", str(log_level))
        self.parameter_values = {k: dict(v) for k, v in (parameter_values or {}).items()}
        self.deactivate_timeout = 6.0 if deactivate_timeout is None else deactivate_timeout
        self.activate_timeout = 60.0 if activate_timeout is None else activate_timeout
        self.health_check_timeout = 2.0 if health_check_timeout is None else health_check_timeout
        self.health_check_interval = 1.0 if health_check_interval is None else health_check_interval
        self.health_check_path = "/health" if health_check_path is None else health_check_path
        self.raw_data_path = raw_data_path if raw_data_path is not None else os.path.join(
            tempfile.gettempdir(), "flyte", "raw_data")
        self.serve = _SyncAio(self._serve)

    def _serve(self, app_env: AppEnvironment) -> AppHandle:
        """Start ``app_env``'s process and return its handle at once (``activate(wait=True)`` waits
        until it answers)."""
        if not isinstance(app_env, AppEnvironment):
            raise TypeError(f"serve needs a flyte.app.AppEnvironment, got {app_env!r}")
        if os.environ.get(CHILD_ENV) == app_env.name:
            raise FlyteUsageError(f"App '{app_env.name}' is being served and its file asked to serve it again; "
                                  "put flyte.serve(...) under `if __name__ == \"__main__\":`.")
        app = LocalApp(app_env, self)
        app._start()
        return app


def with_servecontext(
    mode: ServeMode | None = None, *, version: str | None = None, copy_style: str = "loaded_modules",
    dry_run: bool = False, project: str | None = None, domain: str | None = None,
    env_vars: dict[str, str] | None = None, parameter_values: dict[str, dict[str, Any]] | None = None,
    cluster_pool: str | None = None, cluster: str | None = None, log_level: int | None = None,
    log_format: str = "console", user_log_level: int | None = None, interactive_mode: bool | None = None,
    copy_bundle_to: Any = None, deactivate_timeout: float | None = None, activate_timeout: float | None = None,
    health_check_timeout: float | None = None, health_check_interval: float | None = None,
    health_check_path: str | None = None, raw_data_path: str | None = None,
) -> ServeContext:
    """Settings for serving apps (Flyte 2's ``flyte.with_servecontext``); ``.serve(app_env)`` serves one.
    See :class:`ServeContext` for what each setting does here."""
    return ServeContext(
        mode, version=version, copy_style=copy_style, dry_run=dry_run, project=project, domain=domain,
        env_vars=env_vars, parameter_values=parameter_values, cluster_pool=cluster_pool, cluster=cluster,
        log_level=log_level, log_format=log_format, user_log_level=user_log_level, interactive_mode=interactive_mode,
        copy_bundle_to=copy_bundle_to, deactivate_timeout=deactivate_timeout, activate_timeout=activate_timeout,
        health_check_timeout=health_check_timeout, health_check_interval=health_check_interval,
        health_check_path=health_check_path, raw_data_path=raw_data_path)


def _serve(app_env: AppEnvironment) -> AppHandle:
    """Serve ``app_env`` locally with default settings; returns its handle (Flyte 2's ``flyte.serve``)."""
    return ServeContext().serve(app_env)


serve = _SyncAio(_serve)


def local_endpoint(app_name: str) -> str:
    """The URL of app ``app_name`` served by this process (for ``AppEndpoint`` parameters)."""
    with _active_lock:
        app = _active.get(app_name)
    if app is None:
        raise FlyteUsageError(f"AppEndpoint('{app_name}'): no app named '{app_name}' is served by this process; "
                              "serve it first (flyte.serve(its_app_env)).")
    return app.endpoint


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@atexit.register
def _stop_all() -> None:
    """Nothing served by this interpreter outlives it."""
    with _active_lock:
        apps = list(_active.values())
    for app in apps:
        with contextlib.suppress(Exception):
            app.deactivate(wait=True)
