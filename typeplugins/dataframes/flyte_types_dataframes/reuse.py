"""Frames this process already has in the data store, so passing one on costs nothing.

A parent task that calls ``b(a())`` receives ``a``'s frame (read from the store) and hands the
very same object to ``b``; a ``map`` over one frame hands it to every child. Without this, each
hand-off writes the whole frame again.

A frame is remembered (weakly: the entry goes when the frame does) with its fingerprint (see
:mod:`~flyte_types_dataframes.fingerprints`) taken when it was read or written, and a later
hand-off reuses the stored file only if the frame's fingerprint is still the same. The entry keeps
the fingerprinted memory alive, so an address cannot be recycled for other data, and in-place
writes cannot go unseen: Arrow and polars memory is never written while shared, and pandas'
copy-on-write copies a column before writing to it while the entry's shallow copy shares it.
(Writing through a NumPy view taken with ``.array`` bypasses pandas' copy-on-write itself.)
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from flyte_types_dataframes.engines import Engine


class _Entry:
    __slots__ = ("fingerprint", "keep", "payload", "ref", "store")

    def __init__(self, ref: weakref.ref[Any], store: str, fingerprint: Any, keep: Any,
                 payload: dict[str, Any]) -> None:
        self.ref, self.store, self.fingerprint, self.keep, self.payload = ref, store, fingerprint, keep, payload


class ReuseCache:
    """Stored frames by object identity, each valid while its fingerprint holds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}

    def lookup(self, frame: Any, store: str, engine: Engine) -> dict[str, Any] | None:
        """The payload ``frame`` was stored under in ``store``, if it is unchanged since."""
        with self._lock:
            entry = self._entries.get(id(frame))
        if entry is None or entry.ref() is not frame or entry.store != store:
            return None
        now = engine.fingerprint(frame)
        if now is None or now[0] != entry.fingerprint:
            return None
        return dict(entry.payload)

    def remember(self, frame: Any, store: str, engine: Engine, payload: dict[str, Any]) -> None:
        """Remember that ``frame`` is stored in ``store`` as ``payload``."""
        taken = engine.fingerprint(frame)
        if taken is None:
            self.forget(frame)
            return
        key = id(frame)

        def gone(r: weakref.ref[Any]) -> None:
            self._forget(key, r)

        try:
            ref = weakref.ref(frame, gone)
        except TypeError:  # a frame type without weak references: never remembered
            return
        entry = _Entry(ref, store, taken[0], taken[1], dict(payload))
        with self._lock:
            self._entries[key] = entry

    def forget(self, frame: Any) -> None:
        """Drop what is remembered about ``frame``."""
        with self._lock:
            self._entries.pop(id(frame), None)

    def __len__(self) -> int:
        return len(self._entries)

    def _forget(self, key: int, ref: weakref.ref[Any]) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.ref is ref:
                del self._entries[key]


#: The process-wide cache (frames are process-wide objects too).
REUSE = ReuseCache()
