"""What of a local data store a run's task containers and pods see, and how values from elsewhere in it reach them.

A task container (docker) or pod (kubernetes, hostPath store) never mounts the whole store (other
runs' data, the cache index, every code bundle). It mounts its own run's folder read-only, the runs
this run recovers read-only, and read-write only the folders its attempt writes
(:meth:`StoreView.mounts`). A value that lives in the store outside those folders — a cache hit
recorded by another run, a ``File`` a user passed that points into another run — is *imported* when
the controller hands it over (as an input, or as a child's outputs over the channel): hard-linked
(copied when links are not possible) into the run's ``imports/`` folder, and the literal's ``uri``
rewritten to the copy. Only what the task was handed becomes visible, never the folder it came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from typing import Any

import attrs

#: Keys whose string value is where a value's bytes live (files, dirs, frames; ``path`` inside models).
_LOCATION_KEYS = ("uri", "path")


def local_path(url: str | None) -> str | None:
    """The local path of a plain path or ``file://`` URL; None for anything remote."""
    if not url:
        return None
    if url.startswith("file://"):
        return url[len("file://"):]
    return None if "://" in url else url


def under(path: str, folder: str) -> bool:
    """True if ``path`` is ``folder`` or inside it."""
    folder = folder.rstrip("/")
    return path == folder or path.startswith(folder + "/")


@attrs.frozen
class AttemptMounts:
    """The folders of a local data store one attempt's container or pod mounts, each at its own path."""

    #: The run's folder first, then the folders of the runs it recovers.
    read_only: tuple[str, ...]
    #: Its own offloaded values (``data_prefix``), its action's folder (checkpoints, report), then
    #: the run's raw data folder (File, Dir and DataFrame data, shared by the run's actions) when local.
    writable: tuple[str, ...]


def refers_to_store(values: Any) -> bool:
    """True when literals (or anything inside them) hold a reference to data in a store: an
    offloaded value, a File, Dir or DataFrame. Only a reference carries a content ``hash``."""
    if isinstance(values, dict):
        return "hash" in values or any(refers_to_store(v) for v in values.values())
    if isinstance(values, list):
        return any(refers_to_store(v) for v in values)
    return False


class StoreView:
    """One run's view of a local data store rooted at ``root``: ``visible`` folders (the run's own
    first, then the recovered runs') are mounted; anything else under ``root`` a literal refers to is
    imported into ``imports`` (a folder inside the run's)."""

    def __init__(self, root: str, visible: tuple[str, ...], imports: str) -> None:
        self.root = os.path.abspath(root)
        self.visible = tuple(os.path.abspath(v) for v in visible)
        self.imports = imports
        self._done: dict[str, str] = {}  # source path -> its path as containers see it
        self._lock = threading.Lock()

    @classmethod
    def of_run(cls, root: str, run_base_dir: str, recovered_run_dirs: Iterable[str] = ()) -> StoreView | None:
        """The view of the run whose folder is ``run_base_dir`` in the store at ``root``; None when
        the store is not local (nothing to mount: a remote store is reached with its credentials).
        Recovered runs whose folder does not exist are left out."""
        root_dir, run_dir = local_path(root), local_path(run_base_dir)
        if root_dir is None or run_dir is None:
            return None
        recovered = tuple(p for p in map(local_path, recovered_run_dirs) if p is not None and os.path.isdir(p))
        run_dir = os.path.abspath(run_dir)
        return cls(root_dir, (run_dir, *recovered), os.path.join(run_dir, "imports"))

    @property
    def run_dir(self) -> str:
        """The run's own folder."""
        return self.visible[0]

    @property
    def recovered(self) -> tuple[str, ...]:
        """The folders of the runs this run recovers."""
        return self.visible[1:]

    def mounts(self, action: str, data_prefix: str, raw_data_path: str) -> AttemptMounts:
        """What an attempt of ``action`` mounts, given its worker spec's ``data_prefix`` and
        ``raw_data_path`` (paths or ``file://`` URLs; a remote raw data path is not mounted)."""
        prefix, raw = local_path(data_prefix), local_path(raw_data_path)
        if prefix is None:
            raise ValueError(f"The data prefix {data_prefix} of action {action} is not in the local store {self.root}.")
        own = (os.path.abspath(prefix), os.path.join(self.run_dir, action))
        return AttemptMounts(read_only=self.visible,
                             writable=(*own, *([os.path.abspath(raw)] if raw is not None else [])))

    def foreign(self, path: str) -> bool:
        """True for a path in the store that the run's containers do not see."""
        path = os.path.abspath(path)
        return under(path, self.root) and not any(under(path, v) for v in self.visible)

    def literals(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` (input or output literals by name) with every reference to a foreign part of
        the store replaced by one to its import; unchanged when there is none."""
        return {name: self._rewrite(v) for name, v in values.items()}

    def refers(self, values: Any) -> bool:
        """True when ``values`` hold a reference to the store, which :meth:`literals` may have to
        import; False for plain values, which it returns as they are (see :func:`refers_to_store`)."""
        return refers_to_store(values)

    def outputs_for(self, action: str, outputs: dict[str, Any]) -> dict[str, Any]:
        """A child's ``outputs`` as the worker of ``action`` (its caller) receives them over the channel."""
        return self.literals(outputs)

    def _rewrite(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._rewrite(v) for v in value]
        if not isinstance(value, dict):
            return value
        # Only a reference carries a content hash beside its location (as the cache's fingerprint
        # assumes too): a user's own {"path": ...} is data, never rewritten.
        located = "hash" in value
        out = {k: self._rewrite(v) for k, v in value.items() if not (located and k in _LOCATION_KEYS)}
        offloaded = "t" in value and "v" in value
        for key in _LOCATION_KEYS if located else ():
            if key in value:
                out[key] = self._located(value[key], offloaded and key == "uri")
        return {k: out[k] for k in value}  # the original key order

    def _located(self, url: Any, offloaded: bool) -> Any:
        path = local_path(url) if isinstance(url, str) else None
        if path is None:
            return url
        path = os.path.abspath(path)
        if not os.path.exists(path):
            return url  # not ours to judge: reading it fails in the task, with its own message
        if offloaded:  # an offloaded payload may itself refer to foreign data: look inside
            new = self._offloaded(path)
        elif self.foreign(path):
            new = self._import(path, lambda tmp: _link_tree(path, tmp))
        else:
            return url
        return f"file://{new}" if url.startswith("file://") else new

    def _offloaded(self, path: str) -> str:
        with self._lock:
            if path in self._done:
                return self._done[path]
        with open(path, encoding="utf-8") as f:
            payload = json.load(f)
        rewritten = self._rewrite(payload)
        if rewritten == payload:
            new = self._import(path, lambda tmp: _link_tree(path, tmp)) if self.foreign(path) else path
        else:
            new = self._import(path, lambda tmp: _write_json(tmp, rewritten))
        with self._lock:
            self._done[path] = new
        return new

    def _import(self, path: str, make: Any) -> str:
        """Put a copy of ``path`` at its place under :attr:`imports` (once: later calls reuse it)."""
        dest = os.path.join(self.imports, hashlib.sha256(path.encode()).hexdigest()[:16], os.path.basename(path))
        with self._lock:
            if path in self._done:
                return self._done[path]
            if not os.path.exists(dest):
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                tmp = tempfile.mkdtemp(dir=os.path.dirname(dest), prefix=".import-")
                try:
                    make(os.path.join(tmp, "x"))
                    os.replace(os.path.join(tmp, "x"), dest)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
            self._done[path] = dest
        return dest


def _link(src: str, dst: str) -> None:
    """A hard link (no bytes copied, same content); a copy where linking is not allowed."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _link_tree(src: str, dst: str) -> None:
    if os.path.isdir(src):
        shutil.copytree(src, dst, copy_function=_link)
    else:
        _link(src, dst)


def _write_json(path: str, payload: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, separators=(",", ":"))
    os.chmod(path, 0o644)
