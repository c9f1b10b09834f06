"""The registry backend plugins fill (``flyte_register_backends``): backend names to factories.

Apart from the backend protocol (:mod:`flyte_core.run.backend`) so that naming a backend (a run
served from the cache checks the name without making the backend) loads no more than the names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flyte_core.plugins.registry import Registry

if TYPE_CHECKING:
    from flyte_core.run.backend import Backend

#: A backend factory: called once per run with the backend's options from config or run context.
BackendFactory = Callable[[Mapping[str, Any]], "Backend"]


class BackendRegistry(Registry[str, BackendFactory]):
    """Backends by name, filled by ``flyte_register_backends``."""

    def __init__(self) -> None:
        super().__init__("backend")

    def missing_hint(self, key: str) -> str | None:
        """The package that provides backend ``key``, if flyte-core ships it."""
        from flyte_core.plugins.known import BACKENDS

        known = BACKENDS.get(key)
        return known.install_hint() if known is not None else None
