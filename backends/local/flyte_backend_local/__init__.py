"""The local backend: runs a run's actions on this machine, in this process or in worker processes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte_backend_local.inprocess import InProcessBackend

# Imported on first use: loading the plugin (every `flyte` command does) must not import the backend.
_LAZY = {
    "InProcessBackend": "flyte_backend_local.inprocess",
}

__all__ = ["InProcessBackend"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
