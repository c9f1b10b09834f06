"""The installed entry points of a group, remembered between processes.

Finding them with :mod:`importlib.metadata` imports the email and zip machinery and reads the
metadata of every installed distribution: the largest part of a ``flyte`` command's start-up. What
a scan finds is kept in ``$FLYTE_HOME/cache/entry-points.json`` together with a fingerprint of what
is installed: the distributions in every folder on ``sys.path``, each with the modification time
of its ``entry_points.txt``. Installing, removing or editing a distribution changes the
fingerprint: then the entry points are scanned again. The last few fingerprints are kept, so
environments (or ``python`` and the ``flyte`` command, whose ``sys.path`` differ) sharing one
``FLYTE_HOME`` do not scan in turns. The cache is only written when ``FLYTE_HOME`` exists (a
session makes it); a cache that cannot be read or written is not used.

An environment that never changes (a task image) can hold the same record, read-only, at
``<sys.prefix>/share/flyte/entry-points.json``: ``python -m flyte_core.plugins.entrypoints``
writes it there (the docker backend's images do, as their last build step), so each task
container's worker finds its plugins without a scan, although its ``FLYTE_HOME`` is empty. Folders
on ``sys.path`` without distributions (the code folder a worker runs from) are not part of the
fingerprint, so the record made at build time matches the worker's.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from typing import Any

import attrs

#: Bumped when the cache's layout changes (an older file is then ignored).
_FORMAT = 1
#: How many fingerprints (with what was found for each) the cache keeps, newest first.
_KEEP = 8


@attrs.frozen
class FoundEntryPoint:
    """One entry point: its name, what it names (``module:attr``), and its distribution."""

    name: str
    value: str
    module: str
    attr: str | None
    dist: str | None
    version: str | None

    def load(self) -> Any:
        """Import the module and return the object the entry point names."""
        obj: Any = importlib.import_module(self.module)
        for part in (self.attr or "").split("."):
            if part:
                obj = getattr(obj, part)
        return obj


def entry_points(group: str) -> list[FoundEntryPoint]:
    """The entry points of ``group`` installed for this interpreter, sorted by name."""
    path = _cache_file()
    key = _fingerprint(group)
    kept = _read(path) if path is not None else []
    for known in [*kept, *_read(frozen_file())]:
        if known["key"] == key:
            with contextlib.suppress(TypeError):  # a damaged record: scan instead
                return [FoundEntryPoint(*e) for e in known["entry_points"]]
    found = _scan(group)
    if path is not None:
        _write(path, [_entry(key, found), *kept[: _KEEP - 1]])
    return found


def frozen_file() -> str:
    """Where an environment that never changes keeps its entry points (read-only at run time)."""
    return os.path.join(sys.prefix, "share", "flyte", "entry-points.json")


def freeze(groups: tuple[str, ...] = ("flyte",)) -> str:
    """Record the entry points of ``groups`` for this environment in :func:`frozen_file` (run as
    the last step of building an image); returns the file's path."""
    path = frozen_file()
    _write(path, [_entry(_fingerprint(g), _scan(g)) for g in groups], strict=True)
    return path


def _entry(key: list[Any], found: list[FoundEntryPoint]) -> dict[str, Any]:
    return {"key": key, "entry_points": [attrs.astuple(e) for e in found]}


def _read(path: str) -> list[dict[str, Any]]:
    """The records kept in ``path``; none when it is missing or unreadable."""
    with contextlib.suppress(OSError, ValueError, TypeError), open(path) as f:
        data = json.load(f)
        return [k for k in data if isinstance(k, dict) and "key" in k and "entry_points" in k] \
            if isinstance(data, list) else []
    return []


def _write(path: str, records: list[dict[str, Any]], strict: bool = False) -> None:
    try:
        os.makedirs(os.path.dirname(path), mode=0o755 if strict else 0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(records, f)
        os.replace(tmp, path)  # whole files only: concurrent writers cannot leave half of one
    except (OSError, TypeError):
        if strict:
            raise


def _scan(group: str) -> list[FoundEntryPoint]:
    import importlib.metadata as md

    return [
        FoundEntryPoint(ep.name, ep.value, ep.module, ep.attr or None, ep.dist.name if ep.dist else None,
                        ep.dist.version if ep.dist else None)
        for ep in sorted(md.entry_points(group=group), key=lambda ep: ep.name)
    ]


def _cache_file() -> str | None:
    # $FLYTE_HOME as flyte_core.config.home.flyte_home() finds it (config is not importable from here;
    # os.path rather than pathlib, which a command such as `flyte --help` does not import otherwise).
    home = os.path.expanduser(os.environ.get("FLYTE_HOME") or os.path.join("~", ".flyte"))
    return os.path.join(home, "cache", "entry-points.json") if os.path.isdir(home) else None


def _fingerprint(group: str) -> list[Any]:
    """What the entry points found depend on: for each ``sys.path`` folder (as importlib.metadata
    reads it), its distributions with the modification times of their ``entry_points.txt`` (a
    folder's own time would change with any file made in it); for a zip, its modification time."""
    out: list[Any] = [_FORMAT, group, sys.version]
    for entry in sys.path:
        folder = os.path.abspath(entry or ".")
        dists: list[Any] = []
        try:
            with os.scandir(folder) as it:
                for d in it:
                    if d.name.endswith((".dist-info", ".egg-info")):
                        try:
                            dists.append([d.name, os.stat(os.path.join(d.path, "entry_points.txt")).st_mtime_ns])
                        except OSError:
                            dists.append([d.name, None])
        except NotADirectoryError:
            with contextlib.suppress(OSError):
                out.append([folder, os.stat(folder).st_mtime_ns])
            continue
        except OSError:
            continue
        if dists:  # a folder without distributions (a code folder) adds no entry points
            out.append([folder, sorted(dists)])
    return out


if __name__ == "__main__":
    print(freeze())
