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
    kept: list[Any] = []
    if path is not None:
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError), open(path) as f:
            data = json.load(f)
            kept = [k for k in data if isinstance(k, dict) and "key" in k] if isinstance(data, list) else []
            for known in kept:
                if known["key"] == key:
                    return [FoundEntryPoint(*e) for e in known["entry_points"]]
    found = _scan(group)
    if path is not None:
        entry = {"key": key, "entry_points": [attrs.astuple(e) for e in found]}
        with contextlib.suppress(OSError, TypeError):
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                json.dump([entry, *kept[: _KEEP - 1]], f)
            os.replace(tmp, path)  # whole files only: concurrent writers cannot leave half of one
    return found


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
        out.append([folder, sorted(dists)])
    return out
