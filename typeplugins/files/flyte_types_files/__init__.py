"""Flyte 2's ``flyte.io.File`` and ``flyte.io.Dir`` for flyte-core, with their type transformers.

Users import them as ``from flyte.io import File, Dir`` (or ``flyte.File`` / ``flyte.Directory``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte_types_files.directory import Dir, EmptyDir
    from flyte_types_files.file import File

# Imported on first use: loading the plugin (every `flyte` command does) must not import them.
_LAZY = {
    "Dir": "flyte_types_files.directory",
    "EmptyDir": "flyte_types_files.directory",
    "File": "flyte_types_files.file",
}

__all__ = ["Dir", "EmptyDir", "File"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
