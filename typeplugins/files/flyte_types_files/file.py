"""``File``: Flyte 2's ``flyte.io.File``, a reference to one file on any fsspec filesystem.

A File is only a path plus a name, format and content hash; it never holds data. Reading and
writing go through fsspec (``open``/``open_sync``); crossing an action boundary uploads a local
file into the run's data store once and passes stored files by reference (see ``transformer.py``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import types
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

import attrs

from flyte_types_files import storage
from flyte_types_files.asyncfile import AsyncFile
from flyte_types_files.hashing import HashingWriter, HashMethod, as_hash_method

T = TypeVar("T")

_WRITE_MODES = frozenset("wax+")


def _to_str(value: str | os.PathLike[str]) -> str:
    return os.fspath(value)


@attrs.frozen
class FormatName:
    """The format a hint such as ``File["csv"]`` names, kept as an object (not a string) so that
    ``typing.get_type_hints`` does not try to evaluate ``csv`` as a forward reference."""

    name: str

    def __repr__(self) -> str:
        return repr(self.name)


def parametrize(cls: type, item: Any) -> types.GenericAlias:
    """``cls[item]`` for File and Dir: a format name (``"csv"``), a type (``File[DataFrame]``) or a TypeVar."""
    if isinstance(item, tuple):
        if len(item) != 1:
            raise TypeError(f"{cls.__name__}[...] takes one format, e.g. {cls.__name__}['csv']; got {len(item)}")
        item = item[0]
    if isinstance(item, str):
        item = FormatName(item)
    return types.GenericAlias(cls, (item,))


@attrs.frozen
class File(Generic[T]):
    """A file: local (``/tmp/data.csv``) or remote (``s3://bucket/data.csv``, ``memory://x/y``).

    ``name`` defaults to the path's last part; ``format`` is a free-form label (``"csv"``), also
    settable through the generic parameter (``File["csv"]``); ``hash`` is a content hash used as a
    cache key (computed when the file is stored, or supplied by you).

    Create one with :meth:`from_local` (upload a local file), :meth:`new_remote` /
    :meth:`named_remote` (a fresh path to write to) or :meth:`from_existing_remote`; every method
    without ``_sync`` is async.
    """

    path: str = attrs.field(converter=_to_str)
    name: str | None = None
    format: str = ""
    hash: str | None = None
    # Not part of the value: it only computes ``hash`` (when the file is written or stored).
    hash_method: HashMethod | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.name is None:
            object.__setattr__(self, "name", storage.basename(self.path))
        if self.hash_method is not None:
            object.__setattr__(self, "hash_method", as_hash_method(self.hash_method, "File"))

    def __class_getitem__(cls, item: Any) -> Any:
        """``File["csv"]``: a File hint whose values default to format ``"csv"``."""
        return parametrize(cls, item)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """A File as a Pydantic model field: its reference (path, name, format, hash)."""
        from flyte_types_files.pydantic_schema import core_schema_for

        return core_schema_for(cls)

    # --- constructors ----------------------------------------------------------------------------

    @classmethod
    def new_remote(cls, file_name: str | None = None, hash_method: str | HashMethod | None = None) -> File[T]:
        """A fresh path to write a new file to (``with f.open_sync("wb")``) without a local copy first.

        Inside a task the path is in the run's raw data store; outside one it is a new local
        temporary file, uploaded when the File is passed to a run.

        :param file_name: the file's name (a generated one by default).
        :param hash_method: a precomputed cache key to record as the file's hash, or a hash method
            (``HashFunction``, a ``hashlib`` object) fed every byte written through :meth:`open`;
            its result becomes the hash when the file is closed.
        """
        if isinstance(hash_method, str):
            return cls(path=storage.new_data_path(file_name), hash=hash_method)
        return cls(path=storage.new_data_path(file_name), hash_method=as_hash_method(hash_method, "File.new_remote"))

    @classmethod
    def named_remote(cls, name: str) -> File[T]:
        """Like :meth:`new_remote`, but the path depends only on ``name`` and the running action, so
        a retried attempt finds (and may overwrite or reuse) what an earlier attempt wrote.

        :param name: a plain file name such as ``"data.csv"`` (no path separators).
        """
        return cls(path=storage.named_data_path(name), name=name)

    @classmethod
    def from_existing_remote(cls, remote_path: str, file_cache_key: str | None = None) -> File[T]:
        """A reference to a file that already exists (``s3://bucket/data.csv``); nothing is copied.

        :param remote_path: the file's URL or path.
        :param file_cache_key: its hash, if known (otherwise computed once when the File is passed on).
        """
        return cls(path=remote_path, hash=file_cache_key)

    @classmethod
    def from_local_sync(
        cls,
        local_path: str | os.PathLike[str],
        remote_destination: str | None = None,
        hash_method: str | HashMethod | None = None,
    ) -> File[T]:
        """Upload a local file to the running task's data store (or to ``remote_destination``) and
        return a File for the copy, with its sha256 computed while uploading. Outside a task, and
        without a destination, the local file is wrapped as it is (uploaded when passed to a run).

        :param local_path: the local file.
        :param remote_destination: where to put the copy (any fsspec URL); a fresh path by default.
        :param hash_method: a precomputed cache key to record instead of the computed hash, or a
            hash method (``HashFunction``, ``hashlib`` object) fed every chunk of the file, whose
            result becomes the hash (the cache key of tasks taking this File).
        :raises ValueError: if ``local_path`` does not exist or is not a file.
        """
        src = storage.local_path(os.fspath(local_path))
        if not os.path.isfile(src):
            what = "is a directory, not a file" if os.path.isdir(src) else "does not exist"
            raise ValueError(f"File.from_local: local file '{src}' {what}.")
        name = os.path.basename(src)
        known = hash_method if isinstance(hash_method, str) else None
        method = None if known is not None else as_hash_method(hash_method, "File.from_local")
        src_fs, _ = storage.filesystem(src)
        if remote_destination is None and storage.task_raw_data_path() is None:
            if method is not None:  # hashed now: the caller may read f.hash before passing it on
                known = storage.hash_file(src_fs, src, method)
            return cls(path=src, name=name, hash=known)
        dest = storage.upload_destination(name, remote_destination)
        dst_fs, dst = storage.filesystem(dest)
        digest = storage.copy_file(src_fs, src, dst_fs, dst, method)
        return cls(path=dest, name=name, hash=known or digest)

    @classmethod
    async def from_local(
        cls,
        local_path: str | os.PathLike[str],
        remote_destination: str | None = None,
        hash_method: str | HashMethod | None = None,
    ) -> File[T]:
        """Async form of :meth:`from_local_sync` (the upload runs in a worker thread)."""
        return await asyncio.to_thread(cls.from_local_sync, local_path, remote_destination, hash_method)

    # --- reading and writing ---------------------------------------------------------------------

    def _open_raw(
        self, mode: str, block_size: int | None, cache_type: str, cache_options: dict[str, Any] | None,
        compression: str | None, **kwargs: Any,
    ) -> IO[Any]:
        fs, path = storage.filesystem(self.path)
        if _WRITE_MODES & set(mode):
            storage.make_parent(fs, path)
        options: dict[str, Any] = dict(kwargs)
        if block_size:
            options["block_size"] = block_size
        # Read caches only mean something for remote files; the local disk has the OS cache.
        if cache_type != "none" and not storage.fs_is_local(fs):
            options["cache_type"] = cache_type
            options["cache_options"] = cache_options or {}
        f: IO[Any] = fs.open(path, mode, compression=compression, **options)
        if self.hash_method is not None and _WRITE_MODES & set(mode):
            return HashingWriter(f, self.hash_method)  # type: ignore[return-value]
        return f

    def _record_hash(self, f: Any) -> None:
        """After a write through :meth:`open`, the hash method's result is the file's hash."""
        if isinstance(f, HashingWriter) and f.written:
            # attrs.frozen: the File was made to be written once, and its hash is known only now.
            object.__setattr__(self, "hash", f.result())

    @contextmanager
    def open_sync(
        self,
        mode: str = "rb",
        block_size: int | None = None,
        cache_type: str = "readahead",
        cache_options: dict[str, Any] | None = None,
        compression: str | None = None,
        **kwargs: Any,
    ) -> Iterator[IO[Any]]:
        """Open the file through fsspec: ``with f.open_sync() as fh: data = fh.read()``; ``"wb"`` writes
        (e.g. to a :meth:`new_remote` path). Text modes (``"r"``, ``"w"``) work too.

        :param mode: as for :func:`open`.
        :param block_size: read/write block size for remote files.
        :param cache_type: fsspec read cache for remote files (``"readahead"``, ``"bytes"``, ``"none"``, ...).
        :param cache_options: options of that cache.
        :param compression: a compression to apply (``"gzip"``, ...), or None.
        :param kwargs: passed to the filesystem's ``open``.
        """
        f = self._open_raw(mode, block_size, cache_type, cache_options, compression, **kwargs)
        with f:
            yield f
        self._record_hash(f)

    @asynccontextmanager
    async def open(
        self,
        mode: str = "rb",
        block_size: int | None = None,
        cache_type: str = "readahead",
        cache_options: dict[str, Any] | None = None,
        compression: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AsyncFile]:
        """Async form of :meth:`open_sync`: ``async with f.open() as fh: data = await fh.read()``."""
        raw = await asyncio.to_thread(self._open_raw, mode, block_size, cache_type, cache_options, compression,
                                      **kwargs)
        try:
            yield AsyncFile(raw)
        finally:
            await asyncio.to_thread(raw.close)
        self._record_hash(raw)

    def download_sync(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Copy the file to the local disk and return the copy's absolute path.

        :param local_path: where to put it: a file path, or an existing folder (or one ending in a
            separator) to put it in under its own name; a new temporary folder by default.
        """
        name = self.name or storage.basename(self.path)
        if local_path is None:
            dest = os.path.join(tempfile.mkdtemp(prefix="flyte-io-"), name)
        else:
            text = os.fspath(local_path)
            dest = str(Path(text).absolute())
            if text.endswith(("/", os.sep)) or os.path.isdir(dest):
                dest = os.path.join(dest, name)
        os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
        fs, path = storage.filesystem(self.path)
        if storage.fs_is_local(fs):
            shutil.copyfile(path, dest)
        else:
            fs.get_file(path, dest)
        return dest

    async def download(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Async form of :meth:`download_sync`."""
        return await asyncio.to_thread(self.download_sync, local_path)

    def exists_sync(self) -> bool:
        """True if the file exists."""
        fs, path = storage.filesystem(self.path)
        return bool(fs.exists(path))

    async def exists(self) -> bool:
        """Async form of :meth:`exists_sync`."""
        return await asyncio.to_thread(self.exists_sync)
