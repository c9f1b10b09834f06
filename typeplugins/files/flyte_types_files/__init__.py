"""Flyte 2's ``flyte.io.File`` and ``flyte.io.Dir`` for flyte-core, with their type transformers.

Users import them as ``from flyte.io import File, Dir`` (or ``flyte.File`` / ``flyte.Directory``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core.extend import lazy_exports

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

__getattr__ = lazy_exports(__name__, _LAZY)
