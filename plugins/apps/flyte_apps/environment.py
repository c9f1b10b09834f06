"""``flyte.app.AppEnvironment``: a long-running app (an API, a dashboard, a model server) and how it starts."""

from __future__ import annotations

import inspect
import os
import re
import shlex
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import attrs

from flyte_apps.parameters import Parameter
from flyte_apps.types import Domain, Link, Port, Scaling, Timeouts
from flyte_core.extend import Image

APP_NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
F = TypeVar("F", bound=Callable[..., Any])
_HERE = os.path.dirname(os.path.abspath(__file__))


def _port(value: int | Port | None) -> Port:
    # None: the class's default port (8080 for apps, 8080/h2c for connectors), set after init.
    return Port(port=value) if isinstance(value, int) else value  # type: ignore[return-value]


@attrs.define(eq=False)
class AppEnvironment:
    """An app: the command (or ``@app_env.server`` function) that serves it on ``port``, its parameters
    and environment. Served locally as a process with ``flyte.serve(app_env)`` or ``flyte serve FILE NAME``.

    Cluster settings (``scaling``, ``domain``, ``requires_auth``, ``cluster_pool``, resources, image, ...)
    are accepted and kept; locally one process serves the app with this machine's resources.
    """

    name: str
    depends_on: list[Any] = attrs.field(factory=list)
    pod_template: Any = None
    description: str | None = None
    secrets: Any = None
    env_vars: dict[str, str] | None = None
    resources: Any = None
    interruptible: bool = False
    image: str | Image | None = "auto"
    include: tuple[str, ...] = ()
    service_account: str | None = None
    type: str | None = None
    port: Port = attrs.field(default=None, converter=_port)
    args: list[str] | str | None = None
    command: list[str] | str | None = None
    requires_auth: bool = True
    scaling: Scaling = attrs.field(factory=Scaling)
    domain: Domain | None = attrs.field(factory=Domain)
    links: list[Link] = attrs.field(factory=list)
    parameters: list[Parameter] = attrs.field(factory=list)
    cluster_pool: str = "default"
    cluster: str | None = None
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    _server: Callable[..., Any] | None = attrs.field(default=None, init=False)
    _on_startup: Callable[..., Any] | None = attrs.field(default=None, init=False)
    _on_shutdown: Callable[..., Any] | None = attrs.field(default=None, init=False)
    #: The file that created this environment: a served process imports it to find the server function.
    _source_file: str | None = attrs.field(default=None, init=False, repr=False)

    #: Defaults of ``type`` and ``port`` (subclasses change them without moving the fields).
    default_type: ClassVar[str | None] = None
    default_port: ClassVar[Port] = Port(8080)

    def __attrs_post_init__(self) -> None:
        if self.type is None:
            self.type = self.default_type
        if self.port is None:
            self.port = self.default_port
        if not isinstance(self.name, str) or not APP_NAME_RE.fullmatch(self.name):
            raise ValueError(f"App name '{self.name}' must consist of lower case alphanumeric characters or '-', "
                             "and must start and end with an alphanumeric character.")
        for what, value in (("args", self.args), ("command", self.command)):
            if value is not None and not isinstance(value, list | str):
                raise TypeError(f"Expected {what} to be of type List[str] or str, got {type(value)}")
        if not isinstance(self.scaling, Scaling):
            raise TypeError(f"Expected scaling to be of type Scaling, got {type(self.scaling)}")
        if not isinstance(self.domain, Domain | None):
            raise TypeError(f"Expected domain to be of type Domain or None, got {type(self.domain)}")
        if not isinstance(self.timeouts, Timeouts):
            raise TypeError(f"Expected timeouts to be of type Timeouts, got {type(self.timeouts)}")
        for link in self.links:
            if not isinstance(link, Link):
                raise TypeError(f"Expected links to be of type List[Link], got {type(link)}")
        if self.cluster and self.cluster_pool and self.cluster_pool != "default":
            raise ValueError(f"'cluster' ({self.cluster!r}) and 'cluster_pool' ({self.cluster_pool!r}) are mutually "
                             "exclusive; set only one.")
        if self.parameters and self.command is not None:
            head = self.command.split()[0] if isinstance(self.command, str) else self.command[0]
            if head != "fserve":
                raise ValueError("Cannot use 'parameters' with a custom 'command'; use 'args' instead of 'command', "
                                 "or use @app_env.server to define your app process.")
        self._source_file = _caller_file()

    # --- the app's process ---------------------------------------------------------------------

    def server(self, fn: F) -> F:
        """Decorator: the function that serves the app (sync or async; blocks while it serves). Its
        arguments named like the app's parameters receive their values."""
        self._server = fn
        return fn

    def on_startup(self, fn: F) -> F:
        """Decorator: a function run before the server function (same argument binding)."""
        self._on_startup = fn
        return fn

    def on_shutdown(self, fn: F) -> F:
        """Decorator: a function run after the server function returns or is stopped."""
        self._on_shutdown = fn
        return fn

    def container_args(self, serialize_context: Any = None) -> list[str]:
        """``args`` as a list."""
        if self.args is None:
            return []
        return shlex.split(self.args) if isinstance(self.args, str) else list(self.args)

    def local_command(self) -> list[str] | None:
        """The command that serves the app locally (``command``, else ``args``); None when a server
        function serves it."""
        if self._server is not None:
            return None
        cmd = self.command if self.command is not None else self.args
        if cmd is None:
            return None
        return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)

    def get_port(self) -> Port:
        """The port the app serves on."""
        return self.port

    @property
    def endpoint(self) -> str:
        """Where the app answers: ``http://localhost:PORT`` (apps are served locally here)."""
        return f"http://localhost:{self.get_port().port}"

    def clone_with(self, name: str, **changes: Any) -> AppEnvironment:
        """A copy named ``name`` with some settings replaced; an unknown setting is a TypeError."""
        fields = {f.name for f in attrs.fields(type(self)) if f.init}
        unknown = set(changes) - fields
        if unknown:
            raise TypeError(f"Unexpected keyword arguments: {sorted(unknown)}")
        clone = attrs.evolve(self, name=name, **{k: v for k, v in changes.items() if v is not None})
        clone._server, clone._on_startup, clone._on_shutdown = self._server, self._on_startup, self._on_shutdown
        clone._source_file = self._source_file
        return clone


@attrs.define(eq=False)
class ConnectorEnvironment(AppEnvironment):
    """A Flyte connector service (a cluster feature: its ``c0`` server is not part of flyte-core, so
    only a ``command``/``args`` or ``@server`` you give serves it locally)."""

    default_type: ClassVar[str | None] = "connector"
    default_port: ClassVar[Port] = Port(port=8080, name="h2c")


@attrs.frozen
class DeployedAppEnvironment:
    """An app environment deployed to a Flyte cluster (returned by remote deployments; kept for imports)."""

    env: AppEnvironment
    deployed_app: Any

    def get_name(self) -> str:
        """The environment's name."""
        return self.env.name


def _caller_file() -> str | None:
    """The first file up the stack outside this package and attrs' generated code: the user's file."""
    frame = inspect.currentframe()
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<") and not os.path.abspath(filename).startswith(_HERE):
            return os.path.abspath(filename)
        frame = frame.f_back
    return None
