"""User hash methods, as Flyte 2 offers them: a value's hash becomes its cache key.

A *hash method* is any object with ``update(data)`` and ``result() -> str`` (:class:`HashMethod`).
Files feed it every chunk of their bytes as they are copied (``File.from_local(p, hash_method=m)``,
or writes through ``File.new_remote(hash_method=m).open("wb")``); data frames feed it the whole
in-memory frame once (``DataFrame.from_local(df, hash_method=m)``, or
``Annotated[pd.DataFrame, HashFunction.from_fn(fn)]`` as a return type).

- :class:`HashFunction` wraps ``fn(data) -> str``: each ``update`` replaces the result with
  ``fn(data)``, so it suits whole values (frames); for files, whose bytes come in chunks, use
- :class:`HashlibAccumulator` (``HashlibAccumulator.from_hash_name("md5")``), or pass any
  ``hashlib`` object (``hashlib.blake2b()``) directly: it is wrapped by :func:`as_hash_method`.

A string instead of a method is a precomputed cache key, kept as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

__all__ = ["HashFunction", "HashMethod", "HashlibAccumulator", "PrecomputedValue", "as_hash_method", "feed"]


@runtime_checkable
class HashMethod(Protocol):
    """Anything that hashes data given in one or more pieces."""

    def update(self, data: Any, /) -> None:
        """Take the next piece of data (a ``memoryview`` of bytes, or a whole frame)."""

    def result(self) -> str:
        """The hash of everything taken so far."""
        ...


class HashFunction:
    """A hash method made of a function ``fn(data) -> str``: ``HashFunction.from_fn(fn)``.

    Each :meth:`update` computes ``fn(data)``; :meth:`result` returns the latest one.
    """

    def __init__(self, fn: Callable[[Any], str]) -> None:
        if not callable(fn):
            raise TypeError(f"HashFunction needs a function data -> str, got {type(fn).__name__}")
        self._fn = fn
        self._value: str | None = None

    @classmethod
    def from_fn(cls, fn: Callable[[Any], str]) -> HashFunction:
        """A HashFunction that hashes with ``fn``."""
        return cls(fn)

    def update(self, data: Any, /) -> None:
        """Hash ``data`` with the function, replacing the previous result."""
        value = self._fn(data)
        if not isinstance(value, str):
            name = getattr(self._fn, "__qualname__", repr(self._fn))
            raise TypeError(f"hash function {name} returned a {type(value).__name__}, not a str; "
                            "return e.g. str(value) or a hex digest.")
        self._value = value

    def result(self) -> str:
        """The hash of the data given to the last :meth:`update`."""
        if self._value is None:
            raise ValueError("HashFunction.result() called before any data was hashed.")
        return self._value

    def reset(self) -> None:
        """Forget the last result."""
        self._value = None

    def __repr__(self) -> str:
        return f"HashFunction({getattr(self._fn, '__qualname__', self._fn)!r})"


class HashlibAccumulator:
    """A hash method over a ``hashlib`` object: every piece goes to ``h.update``; the result is
    ``h.hexdigest()``."""

    def __init__(self, h: Any) -> None:
        self._h = h

    @classmethod
    def from_hash_name(cls, name: str) -> HashlibAccumulator:
        """An accumulator over ``hashlib.new(name)`` (``"sha256"``, ``"md5"``, ``"blake2b"``, ...)."""
        return cls(hashlib.new(name))

    def update(self, data: Any, /) -> None:
        """Add ``data`` (bytes-like) to the hash."""
        self._h.update(data)

    def result(self) -> str:
        """The hex digest of everything added."""
        return str(self._h.hexdigest())


class PrecomputedValue:
    """A hash method whose result is known in advance; the data is not read."""

    def __init__(self, value: str) -> None:
        self._value = value

    def update(self, data: Any, /) -> None:
        """Ignore ``data``."""

    def result(self) -> str:
        """The precomputed value."""
        return self._value


def as_hash_method(method: Any, where: str) -> HashMethod | None:
    """``method`` as a :class:`HashMethod`: None stays None, a ``hashlib`` object is wrapped.

    :param where: what takes it (e.g. ``"File.from_local"``), for the error message.
    :raises TypeError: for anything else (a string is a precomputed key: handle it before).
    """
    if method is None or isinstance(method, HashMethod):
        return method
    if callable(getattr(method, "update", None)) and callable(getattr(method, "hexdigest", None)):
        return HashlibAccumulator(method)
    raise TypeError(
        f"{where}: hash_method must be a string (a precomputed cache key), a flyte.io.HashFunction, "
        f"a hashlib object or an object with update() and result(); got {type(method).__name__}."
    )


def feed(method: HashMethod, data: Any) -> None:
    """Give one piece of bytes to ``method`` as a ``memoryview`` (what Flyte 2 hands hash methods)."""
    method.update(memoryview(data) if isinstance(data, bytes | bytearray) else data)


class HashingWriter:
    """A file open for writing that feeds every write to a hash method (text is hashed as the
    file's encoding, else UTF-8, encodes it). Everything else goes to the wrapped file."""

    def __init__(self, raw: Any, method: HashMethod) -> None:
        self._raw = raw
        self._method = method
        #: True once something was written, so there is a result to ask for.
        self.written = False

    def write(self, data: Any) -> Any:
        """Hash ``data`` and write it."""
        piece = data.encode(getattr(self._raw, "encoding", None) or "utf-8") if isinstance(data, str) else data
        feed(self._method, piece)
        self.written = True
        return self._raw.write(data)

    def writelines(self, lines: Any) -> None:
        """Write every line of ``lines``."""
        for line in lines:
            self.write(line)

    def result(self) -> str:
        """The hash method's result over everything written."""
        return self._method.result()

    def __enter__(self) -> HashingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()

    def __iter__(self) -> Any:
        return iter(self._raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)
