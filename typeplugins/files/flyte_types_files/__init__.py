"""Flyte 2's ``flyte.io.File`` and ``flyte.io.Dir`` for flyte-core, with their type transformers.

Users import them as ``from flyte.io import File, Dir`` (or ``flyte.File`` / ``flyte.Directory``).
"""

from flyte_types_files.directory import Dir, EmptyDir
from flyte_types_files.file import File

__all__ = ["Dir", "EmptyDir", "File"]
