"""The ``docker`` backend's options (config ``backends.docker`` or ``backend_options``).

Structured with flyte-core's strict config schema when the backend is made, before the engine is
contacted: a wrong type or an unknown key is a one-line error naming the key and the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from flyte_core.extend import ConfigValueError, Invalid, at_least, structure

_USER = re.compile(r"^(auto|\d+(:\d+)?)$")


def _user_spec(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _USER.match(value):
        raise Invalid(attribute.name, f"must be auto, UID or UID:GID (numbers), got {value!r}")


@attrs.frozen
class SecurityOptions:
    """How task containers are confined (``backends.docker.security``); see docs/security.md.

    - ``user``: who task code runs as. ``auto`` (the default): the driver's own uid:gid when it is not
      root, so what tasks write into the data store belongs to the user who ran it; else
      :data:`~flyte_backend_docker.sandbox.UNPRIVILEGED`, an unprivileged id no host account uses.
      ``UID`` or ``UID:GID`` picks one (``0`` is root, not recommended).
    - ``read_only_root``: the container's root filesystem is read-only (``/tmp`` and the code
      folder are private tmpfs); tasks write only to ``/tmp`` and their own data store folders.
    - ``unrestricted_environments``: names of task environments whose containers run as the
      image's user (root for default images) with Docker's default capabilities and a writable
      root filesystem, e.g. one that installs packages at run time. Their mounts stay narrowed.
    """

    user: str = attrs.field(default="auto", validator=_user_spec)
    read_only_root: bool = True
    unrestricted_environments: tuple[str, ...] = ()


@attrs.frozen
class DockerOptions:
    """Every option, with its default (see :class:`~flyte_backend_docker.backend.DockerBackend`)."""

    base_image: str | None = None
    network: str | None = None
    echo: bool = True
    keep_failed: bool = False
    image_builder: str = "docker"
    cache_dir: str | None = None
    max_concurrent_actions: int | None = attrs.field(default=None, validator=at_least(1))
    security: SecurityOptions = attrs.field(factory=SecurityOptions)
    #: Aborts SIGKILL containers' processes from this host when the engine is local (hostkill.py).
    host_kill: bool = True
    #: When an environment's calls follow one another, the container of its next call starts before
    #: that call is made (docs/docker.md, "Standby containers").
    standby: bool = True
    #: Every task container of a run joins one network namespace, held by a small container of the
    #: run's, instead of getting one of its own (docs/docker.md, "A shared network namespace").
    share_network: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> DockerOptions:
        """Options from a config mapping (unknown keys and wrong types are ConfigErrors)."""
        security = raw.get("security") if isinstance(raw, Mapping) else None
        names = security.get("unrestricted_environments") if isinstance(security, Mapping) else None
        if isinstance(names, str):  # cattrs would read a string as a list of its letters
            raise ConfigValueError("backends.docker.security.unrestricted_environments",
                                   f"expected a list of environment names, got the string {names!r}")
        return structure(cls, raw, section="backends.docker")
