"""The local backend: runs a run's actions on this machine, in this process or in worker processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core.extend import lazy_exports

if TYPE_CHECKING:
    from flyte_backend_local.inprocess import InProcessBackend

# Imported on first use: loading the plugin (every `flyte` command does) must not import the backend.
_LAZY = {
    "InProcessBackend": "flyte_backend_local.inprocess",
}

__all__ = ["InProcessBackend"]

__getattr__ = lazy_exports(__name__, _LAZY)
