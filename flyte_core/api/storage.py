"""Flyte 2's ``flyte.storage`` functions: copy, stream and open files at any fsspec URL.

The async functions run fsspec's blocking calls in a worker thread, so they work on every
filesystem (local, memory, s3, ...) without blocking the caller's event loop. Where a destination
is left out, it is a fresh place under the raw-data path of the running action (inside a task)
or under the default session's data store (outside one), as Flyte 2 does with its raw-data path.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import IO, Any, TypeVar

import fsspec
from fsspec.core import url_to_fs

from flyte_core.errors.core import OnlyAsyncIOSupportedError
from flyte_core.runtime import context
from flyte_core.storage.config import fsspec_kwargs

T = TypeVar("T")
_CHUNK = 10 * 1024 * 1024


def _protocol(path: str) -> str:
    return path.split("://", 1)[0] if "://" in path else "file"


def is_remote(path: str | pathlib.Path) -> bool:
    """True for a URL of anything but the local filesystem (``s3://``, ``gs://``, ``memory://``, ...)."""
    return _protocol(str(path)) not in ("file", "local")


def get_configured_fsspec_kwargs(protocol: str | None = None, anonymous: bool = False) -> dict[str, Any]:
    """The fsspec options the configured ``flyte.storage`` settings give ``protocol``."""
    return fsspec_kwargs(protocol, anonymous=anonymous)


def get_underlying_filesystem(protocol: str | None = None, anonymous: bool = False, path: str | None = None,
                              **kwargs: Any) -> fsspec.AbstractFileSystem:
    """The fsspec filesystem for ``protocol`` (or the protocol of ``path``), with the configured options."""
    proto = protocol or (_protocol(path) if path else "file")
    return fsspec.filesystem(proto, **{**fsspec_kwargs(proto, anonymous=anonymous), **kwargs})


def _fs(path: str, **kwargs: Any) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, p = url_to_fs(path, **{**fsspec_kwargs(_protocol(path)), **kwargs})
    return fs, str(p)


def join(*paths: str) -> str:
    """Join path parts with "/" (URLs keep their scheme): ``join("s3://b", "x", "y")`` is ``s3://b/x/y``."""
    if not paths:
        return ""
    head, *rest = paths
    parts = [head.rstrip("/")] + [p.strip("/") for p in rest if p]
    return "/".join(parts)


def get_random_local_directory() -> pathlib.Path:
    """A new, empty local directory under the system's temporary folder."""
    d = pathlib.Path(tempfile.gettempdir()) / "flyte" / uuid.uuid4().hex
    d.mkdir(parents=True, exist_ok=True)
    return d


def get_random_local_path(file_path_or_file_name: pathlib.Path | str | None = None) -> pathlib.Path:
    """A fresh local path (not created) in a new directory; it keeps the leaf name given, if any."""
    leaf = pathlib.Path(file_path_or_file_name).name if file_path_or_file_name else uuid.uuid4().hex
    return get_random_local_directory() / leaf


def _random_remote_path(name: str | None = None) -> str:
    ctx = context.current()
    if ctx is not None:
        base = ctx.raw_data_path
    else:
        from flyte_core.api.runs import current_session

        base = current_session().data.url("storage")
    return join(base, uuid.uuid4().hex[:16], name or uuid.uuid4().hex)


async def _in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise OnlyAsyncIOSupportedError(
            f"flyte.storage.{getattr(fn, '__name__', 'call')} must be awaited in an asyncio event loop "
            "(trio and other loops are not supported); call it from an async task or asyncio.run().") from None
    return await asyncio.to_thread(fn, *args, **kwargs)


def exists_sync(path: str, **kwargs: Any) -> bool:
    """True if a file or folder exists at ``path`` (a local path or any fsspec URL)."""
    fs, p = _fs(path, **kwargs)
    return bool(fs.exists(p))


async def exists(path: str, **kwargs: Any) -> bool:
    """:func:`exists_sync` for async code."""
    return await _in_thread(exists_sync, path, **kwargs)


def _put(from_path: str, to_path: str | None, recursive: bool, **kwargs: Any) -> str:
    src = pathlib.Path(from_path)
    if not src.exists():
        raise FileNotFoundError(f"flyte.storage.put: '{from_path}' does not exist.")
    if src.is_dir() and not recursive:
        raise IsADirectoryError(f"flyte.storage.put: '{from_path}' is a folder; pass recursive=True to upload it.")
    dest = to_path or _random_remote_path(src.name)
    fs, p = _fs(dest, **kwargs)
    parent = p.rstrip("/").rsplit("/", 1)[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    if src.is_dir():
        # Copy the folder's contents to ``dest`` (not into ``dest/<name>``): one layout on every fs.
        for f in sorted(src.rglob("*")):
            if f.is_file():
                target = f"{p.rstrip('/')}/{f.relative_to(src).as_posix()}"
                fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
                fs.put_file(str(f), target)
    else:
        fs.put_file(str(src), p)
    return dest


async def put(from_path: str, to_path: str | None = None, recursive: bool = False, batch_size: int | None = None,
              chunk_size: int | None = None, max_concurrency: int | None = None, **kwargs: Any) -> str:
    """Upload a local file (or, with ``recursive``, a folder's contents) to ``to_path``, or to a fresh
    place under the raw-data path; returns where it went. ``batch_size``, ``chunk_size`` and
    ``max_concurrency`` tune Flyte 2's uploader and are accepted here without effect."""
    return await _in_thread(_put, from_path, to_path, recursive, **kwargs)


def _get(from_path: str, to_path: str | pathlib.Path | None, recursive: bool, **kwargs: Any) -> str:
    fs, p = _fs(from_path, **kwargs)
    if not fs.exists(p):
        raise FileNotFoundError(f"flyte.storage.get: '{from_path}' does not exist.")
    is_dir = fs.isdir(p)
    if is_dir and not recursive:
        raise IsADirectoryError(f"flyte.storage.get: '{from_path}' is a folder; pass recursive=True to download it.")
    dest = pathlib.Path(to_path) if to_path is not None else get_random_local_path(p.rstrip("/").rsplit("/", 1)[-1])
    if is_dir:
        dest.mkdir(parents=True, exist_ok=True)
        base = p.rstrip("/")
        for f in fs.find(p):
            rel = str(f)[len(base):].lstrip("/")
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(f, str(out))
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(p, str(dest))
    return str(dest)


async def get(from_path: str, to_path: str | pathlib.Path | None = None, recursive: bool = False,
              **kwargs: Any) -> str:
    """Download ``from_path`` (a folder with ``recursive``) to ``to_path``, or to a fresh local path;
    returns the local path."""
    return await _in_thread(_get, from_path, to_path, recursive, **kwargs)


async def get_stream(path: str, chunk_size: int = _CHUNK, **kwargs: Any) -> AsyncIterator[bytes]:
    """The bytes of ``path`` in chunks of at most ``chunk_size`` (``async for chunk in get_stream(url)``)."""
    fs, p = _fs(path, **kwargs)
    f: IO[bytes] = await _in_thread(fs.open, p, "rb")
    try:
        while chunk := await asyncio.to_thread(f.read, chunk_size):
            yield chunk
    finally:
        await asyncio.to_thread(f.close)


async def put_stream(data_iterable: AsyncIterable[bytes] | Iterable[bytes] | bytes, *, name: str | None = None,
                     to_path: str | None = None, size_hint: int | None = None, chunk_size: int | None = None,
                     max_concurrency: int | None = None, **kwargs: Any) -> str:
    """Write bytes (or an iterable, sync or async, of byte chunks) to ``to_path``, or to a fresh place
    named ``name`` under the raw-data path; returns where it went."""
    dest = to_path or _random_remote_path(name)
    fs, p = _fs(dest, **kwargs)
    parent = p.rstrip("/").rsplit("/", 1)[0]
    if parent:
        await _in_thread(fs.makedirs, parent, exist_ok=True)
    f: IO[bytes] = await _in_thread(fs.open, p, "wb")
    try:
        if isinstance(data_iterable, bytes | bytearray | memoryview):
            await asyncio.to_thread(f.write, bytes(data_iterable))
        elif isinstance(data_iterable, AsyncIterable):
            async for chunk in data_iterable:
                await asyncio.to_thread(f.write, chunk)
        else:
            for chunk in data_iterable:
                await asyncio.to_thread(f.write, chunk)
    finally:
        await asyncio.to_thread(f.close)
    return dest


class AsyncFile:
    """A file of any fsspec filesystem with awaitable ``read``/``write``/``close`` (``async with`` closes it)."""

    def __init__(self, f: IO[Any]) -> None:
        self._f = f

    async def read(self, size: int = -1) -> Any:
        """Up to ``size`` bytes (all that is left by default)."""
        return await asyncio.to_thread(self._f.read, size)

    async def write(self, data: Any) -> int:
        """Write ``data``; returns the number of bytes (or characters) written."""
        n = await asyncio.to_thread(self._f.write, data)
        return int(n or 0)

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the file position."""
        return int(await asyncio.to_thread(self._f.seek, offset, whence))

    async def close(self) -> None:
        """Close the file (a write is complete only after this)."""
        await asyncio.to_thread(self._f.close)

    async def __aenter__(self) -> AsyncFile:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def open(path: str, mode: str = "rb", **kwargs: Any) -> AsyncFile:
    """Open ``path`` (any fsspec URL) as an :class:`AsyncFile`; parents are created for writing."""
    fs, p = _fs(path)
    if "w" in mode or "a" in mode:
        parent = p.rstrip("/").rsplit("/", 1)[0]
        if parent:
            await _in_thread(fs.makedirs, parent, exist_ok=True)
    return AsyncFile(await _in_thread(fs.open, p, mode, **kwargs))


__all__ = ["AsyncFile", "exists", "exists_sync", "get", "get_configured_fsspec_kwargs", "get_random_local_directory",
           "get_random_local_path", "get_stream", "get_underlying_filesystem", "is_remote", "join", "open", "put",
           "put_stream"]
