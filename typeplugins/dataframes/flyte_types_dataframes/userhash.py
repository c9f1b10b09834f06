"""User hash methods for frames: the hash a user's function computes becomes the frame's cache key.

A frame gets a user hash three ways, as in Flyte 2:

- ``DataFrame.from_local(df, hash_method=HashFunction.from_fn(fn))``: ``fn(df)`` now;
- a return type ``Annotated[pd.DataFrame, HashFunction.from_fn(fn)]``: ``fn(frame)`` when the task
  returns it;
- a raw frame read from a literal with a user hash and handed on unchanged keeps that hash, so a
  consumer declared as plain ``pd.DataFrame`` is cached by the producer's hash.

A hash method is anything with ``update(data)`` and ``result()`` (``flyte.io.HashFunction``); this
module only duck-types it, so the plugin needs no other plugin. Payloads whose hash came from a
user method say so (``"hash_by": "user"``).
"""

from __future__ import annotations

import threading
import typing
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte_types_dataframes.engines import Engine

#: Payload key marking a hash computed by a user's hash method (not the stored bytes' hash).
HASH_BY = "hash_by"
#: Frames smaller than this (cells) whose memory cannot be fingerprinted are remembered with a copy
#: of their Arrow table, compared when they are handed on; bigger ones are not remembered.
COMPARE_MAX_CELLS = 128 * 1024

# One method object may sit in a type alias used by tasks running at once: update+result together.
_method_lock = threading.Lock()


def is_hash_method(obj: Any) -> bool:
    """True for an object with ``update`` and ``result`` methods (and not a class)."""
    return (not isinstance(obj, type) and callable(getattr(obj, "update", None))
            and callable(getattr(obj, "result", None)))


def method_in_hint(hint: Any) -> Any:
    """The hash method in ``Annotated[frame, ..., method]``, or None.

    :raises TypeError: if the hint names two.
    """
    if typing.get_origin(hint) is not typing.Annotated:
        return None
    found = [m for m in typing.get_args(hint)[1:] if is_hash_method(m)]
    if len(found) > 1:
        raise TypeError(f"{hint!r} names {len(found)} hash methods; give one.")
    return found[0] if found else None


def compute(method: Any, frame: Any, where: str) -> str:
    """``method``'s hash of ``frame`` (the whole frame, in one ``update``).

    :param where: what asked (e.g. ``"DataFrame.from_local"``), for the error message.
    """
    if not is_hash_method(method):
        raise TypeError(f"{where}: hash_method must be a string (a precomputed cache key) or a "
                        f"flyte.io.HashFunction (update/result); got {type(method).__name__}.")
    with _method_lock:
        method.update(frame)
        value = method.result()
    if not isinstance(value, str):
        raise TypeError(f"{where}: the hash method returned a {type(value).__name__}, not a str.")
    return value


class _Remembered:
    __slots__ = ("check", "keep", "ref", "value")

    def __init__(self, ref: weakref.ref[Any], value: str, check: str, keep: Any) -> None:
        self.ref, self.value, self.check, self.keep = ref, value, check, keep


class UserHashes:
    """User hashes of frames read in this process, by object identity, each valid while the frame
    is provably unchanged: its memory fingerprint holds or, for small frames, its Arrow table
    still equals the one read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[int, _Remembered] = {}

    def remember(self, frame: Any, engine: Engine, value: str) -> None:
        """Remember that ``frame`` (just read) has user hash ``value``."""
        taken = engine.fingerprint(frame)
        if taken is not None:
            check, keep = "fingerprint", taken
        else:
            table = engine.to_arrow(frame)
            if table.num_rows * table.num_columns > COMPARE_MAX_CELLS:
                return  # too big to keep a copy of: handed on, it is hashed by content
            check, keep = "table", table
        key = id(frame)

        def gone(r: weakref.ref[Any]) -> None:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry.ref is r:
                    del self._entries[key]

        try:
            ref = weakref.ref(frame, gone)
        except TypeError:  # no weak references: never remembered
            return
        with self._lock:
            self._entries[key] = _Remembered(ref, value, check, keep)

    def lookup(self, frame: Any, engine: Engine) -> str | None:
        """The user hash ``frame`` was read with, if it is unchanged since."""
        with self._lock:
            entry = self._entries.get(id(frame))
        if entry is None or entry.ref() is not frame:
            return None
        if entry.check == "fingerprint":
            now = engine.fingerprint(frame)
            return entry.value if now is not None and now[0] == entry.keep[0] else None
        return entry.value if engine.to_arrow(frame).equals(entry.keep) else None


#: The process-wide memory (frames are process-wide objects too).
USER_HASHES = UserHashes()
