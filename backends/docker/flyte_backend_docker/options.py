"""The ``docker`` backend's options (config ``backends.docker`` or ``backend_options``).

Structured with flyte-core's strict config schema when the backend is made, before the engine is
contacted: a wrong type or an unknown key is a one-line error naming the key and the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from flyte_core.extend import at_least, structure


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

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> DockerOptions:
        """Options from a config mapping (unknown keys and wrong types are ConfigErrors)."""
        return structure(cls, raw, section="backends.docker")
