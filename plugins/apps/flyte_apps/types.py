"""The settings objects of an app environment (``flyte.app.Port``, ``Scaling``, ...), as Flyte 2 spells them.

Locally only ``Port`` matters (the port the app serves on); the others shape a deployment on a Flyte
cluster and are kept so the same code runs here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

import attrs

#: Ports a Flyte cluster keeps for itself; refused as app ports (as Flyte 2 does).
INVALID_APP_PORTS = (8012, 8022, 8112, 9090, 9091)


@attrs.frozen
class Port:
    """The port an app listens on, and optionally its protocol name (``h2c``, ``http1``)."""

    port: int
    name: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.port in INVALID_APP_PORTS:
            raise ValueError(f"port {self.port} is not allowed. Please do not use ports: "
                             f"{', '.join(str(p) for p in INVALID_APP_PORTS)}")


@attrs.frozen
class Link:
    """A custom link shown with the app."""

    path: str
    title: str
    is_relative: bool = False


@attrs.define
class Scaling:
    """Replica count and autoscaling (a cluster setting; one local process serves the app here)."""

    @attrs.frozen
    class Concurrency:
        """Scale up when a replica has more than ``val`` requests in flight."""

        val: int

        def __attrs_post_init__(self) -> None:
            if self.val < 1:
                raise ValueError("Concurrency must be greater than or equal to 1")

    @attrs.define
    class RequestRate:
        """Scale up when a replica gets more than ``val`` requests per second."""

        val: int

        def __attrs_post_init__(self) -> None:
            if self.val < 1:
                raise ValueError("Request rate must be greater than or equal to 1")

    replicas: int | tuple[int, int] = (0, 1)
    metric: Any = None
    scaledown_after: int | timedelta | None = None

    def __attrs_post_init__(self) -> None:
        if isinstance(self.replicas, int):
            if self.replicas < 0:
                raise ValueError("replicas must be greater than or equal to 0")
            self.replicas = (self.replicas, self.replicas)
        elif isinstance(self.replicas, tuple) and len(self.replicas) == 2:
            low, high = self.replicas
            if low < 0:
                raise ValueError("min_replicas must be greater than or equal to 0")
            if high < 1 or high < low:
                raise ValueError("max_replicas must be greater than or equal to 1 and min_replicas")
        else:
            raise TypeError("replicas must be an int or a tuple of two ints")
        if self.metric is not None and not isinstance(self.metric, Scaling.Concurrency | Scaling.RequestRate):
            raise TypeError("metric must be an instance of Scaling.Concurrency or Scaling.RequestRate")
        if isinstance(self.scaledown_after, int):
            self.scaledown_after = timedelta(seconds=self.scaledown_after)
        elif self.scaledown_after is not None and not isinstance(self.scaledown_after, timedelta):
            raise TypeError("scaledown_after must be an int or a timedelta")

    def get_replicas(self) -> tuple[int, int]:
        """(min, max) replicas."""
        return self.replicas if isinstance(self.replicas, tuple) else (self.replicas, self.replicas)


@attrs.define
class Timeouts:
    """Request timeout of the app (at most one hour)."""

    request: int | timedelta | None = None

    def __attrs_post_init__(self) -> None:
        if self.request is None:
            return
        if isinstance(self.request, int):
            self.request = timedelta(seconds=self.request)
        elif not isinstance(self.request, timedelta):
            raise TypeError(f"Expected request to be of type int or timedelta, got {type(self.request)}")
        if self.request < timedelta(0) or self.request > timedelta(hours=1):
            raise ValueError("request timeout must be between 0 and 1 hour (3600 seconds)")


@attrs.frozen
class Subdomain:
    """A subdomain resolved at deployment from the project and domain (cluster-only)."""

    app_name: str | None = None
    project_domain_suffix: Literal["hash", "default"] = "hash"
    function: Callable[..., str] | None = None

    def __attrs_post_init__(self) -> None:
        if (self.app_name is None) == (self.function is None):
            raise ValueError("exactly one of app_name or function must be set")

    @classmethod
    def from_app_name(cls, app_name: str, project_domain_suffix: Literal["hash", "default"] = "hash") -> Subdomain:
        """``{app_name}-{hash of project-domain}`` (or ``{app_name}-{project}-{domain}``)."""
        return cls(app_name=app_name, project_domain_suffix=project_domain_suffix)

    @classmethod
    def from_function(cls, function: Callable[..., str]) -> Subdomain:
        """A subdomain computed by ``function(app_env, serialization_context)``."""
        return cls(function=function)

    def resolve(self, app_env: Any, serialization_context: Any) -> str:
        """The subdomain for ``app_env`` in the project and domain of ``serialization_context``."""
        if self.function is not None:
            return self.function(app_env, serialization_context)
        project, domain = serialization_context.project, serialization_context.domain
        if self.project_domain_suffix == "hash":
            return f"{self.app_name}-{hashlib.sha256(f'{project}-{domain}'.encode()).hexdigest()[:8]}"
        return f"{self.app_name}-{project}-{domain}"


@attrs.define
class Domain:
    """Subdomain and custom domain of a deployed app (cluster-only)."""

    subdomain: str | Subdomain | None = None
    custom_domain: str | None = None
