"""Comparing File and Dir values by what they hold, not where they are."""

from __future__ import annotations

from flyte_types_files import Dir, File
from flyte_types_files.storage import filesystem


def file_bytes(f: File) -> bytes:
    """The whole content of ``f``."""
    with f.open_sync("rb") as fh:
        data: bytes = fh.read()
    return data


def dir_contents(d: Dir) -> dict[str, bytes]:
    """Every file of ``d`` by its path relative to ``d``."""
    root = filesystem(d.path)[1].rstrip("/")
    out = {}
    for f in d.walk_sync():
        path = filesystem(f.path)[1]
        assert path.startswith(root + "/"), (path, root)
        out[path[len(root) + 1:]] = file_bytes(f)
    return out
