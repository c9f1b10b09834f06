"""``Dir``: Flyte 2's ``flyte.io.Dir``, a reference to a directory (a prefix of files) on any fsspec
filesystem. Its files are walked as :class:`~flyte_types_files.file.File` references, never loaded."""

from __future__ import annotations

import asyncio
import fnmatch
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, TypeVar

import attrs

from flyte_types_files import storage
from flyte_types_files.file import File, parametrize
from flyte_types_files.hashing import HashMethod, as_hash_method

T = TypeVar("T")


#: The path of :class:`EmptyDir` values (Flyte 2's sentinel: no real path or URL looks like it).
EMPTY_DIR_PATH = "::flyte-empty-dir::"


def _to_str(value: str | os.PathLike[str]) -> str:
    return os.fspath(value)


@attrs.frozen
class Dir(Generic[T]):
    """A directory: local (``/tmp/data/``) or remote (``s3://bucket/data/``).

    ``name`` defaults to the path's last part; ``format`` labels the files it holds (also settable as
    ``Dir["csv"]``); ``hash`` is a content hash over every file's relative path and content.

    Create one with :meth:`from_local` (upload a local folder), :meth:`new_remote` or
    :meth:`from_existing_remote`; every method without ``_sync`` is async.
    """

    path: str = attrs.field(converter=_to_str)
    name: str | None = None
    format: str = ""
    hash: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.name is None:
            object.__setattr__(self, "name", storage.basename(self.path))

    def __class_getitem__(cls, item: Any) -> Any:
        """``Dir["csv"]``: a Dir hint whose values default to format ``"csv"``."""
        return parametrize(cls, item)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """A Dir as a Pydantic model field: its reference (path, name, format, hash)."""
        from flyte_types_files.pydantic_schema import core_schema_for

        return core_schema_for(cls)

    # --- constructors ----------------------------------------------------------------------------

    @classmethod
    def new_remote(cls, dir_name: str | None = None, hash: str | None = None) -> Dir[T]:
        """A fresh directory path to write files under (``dir.get_file`` / ``File(path=f"{d.path}/x")``).

        Inside a task it is in the run's raw data store; outside one, a new local temporary folder.

        :param dir_name: the directory's name (a generated one by default).
        :param hash: a precomputed cache key to record as its hash.
        """
        return cls(path=storage.new_data_path(dir_name), hash=hash)

    @classmethod
    def from_existing_remote(cls, remote_path: str, dir_cache_key: str | None = None) -> Dir[T]:
        """A reference to a directory that already exists; nothing is copied.

        :param remote_path: the directory's URL or path.
        :param dir_cache_key: its hash, if known (otherwise computed once when the Dir is passed on).
        """
        return cls(path=remote_path, hash=dir_cache_key)

    @classmethod
    def from_local_sync(
        cls,
        local_path: str | os.PathLike[str],
        remote_destination: str | None = None,
        dir_cache_key: str | None = None,
        *,
        hash_method: HashMethod | None = None,
    ) -> Dir[T]:
        """Upload a local folder (recursively) to the running task's data store, or to
        ``remote_destination``, hashing every file as it streams; outside a task and without a
        destination, the folder is wrapped as it is (uploaded when passed to a run).

        :param local_path: the local folder.
        :param remote_destination: where to put the copy (any fsspec URL); a fresh path by default.
        :param dir_cache_key: a precomputed cache key to record instead of the computed hash.
        :param hash_method: (flyte-core) a hash method (``hashlib`` object, ``HashlibAccumulator``)
            fed every file's bytes in path order; its result becomes the hash.
        :raises ValueError: if ``local_path`` does not exist or is not a folder.
        """
        src = storage.local_path(os.fspath(local_path))
        if not os.path.isdir(src):
            what = "is a file, not a directory" if os.path.isfile(src) else "does not exist"
            raise ValueError(f"Dir.from_local: local directory '{src}' {what}.")
        name = storage.basename(src)
        method = None if dir_cache_key is not None else as_hash_method(hash_method, "Dir.from_local")
        src_fs, _ = storage.filesystem(src)
        if remote_destination is None and storage.task_raw_data_path() is None:
            if method is not None:
                dir_cache_key = storage.hash_tree(src_fs, src, method)
            return cls(path=src, name=name, hash=dir_cache_key)
        dest = storage.upload_destination(name, remote_destination)
        dst_fs, dst = storage.filesystem(dest)
        digest = storage.copy_tree(src_fs, src, dst_fs, dst, method)
        return cls(path=dest, name=name, hash=dir_cache_key or digest)

    @classmethod
    async def from_local(
        cls,
        local_path: str | os.PathLike[str],
        remote_destination: str | None = None,
        dir_cache_key: str | None = None,
        *,
        hash_method: HashMethod | None = None,
    ) -> Dir[T]:
        """Async form of :meth:`from_local_sync` (the upload runs in a worker thread)."""
        return await asyncio.to_thread(cls.from_local_sync, local_path, remote_destination, dir_cache_key,
                                       hash_method=hash_method)

    # --- listing ---------------------------------------------------------------------------------

    def walk_sync(
        self, recursive: bool = True, file_pattern: str = "*", max_depth: int | None = None
    ) -> Iterator[File[T]]:
        """Yield a :class:`File` for every file in the directory, in path order, without reading any.

        :param recursive: descend into sub-directories (False: top-level files only).
        :param file_pattern: a glob on file names (``"*.csv"``).
        :param max_depth: how many levels to descend (1: top level only); unlimited by default.
        """
        if self.is_empty:
            return
        fs, root = storage.filesystem(self.path)
        depth = 1 if not recursive else max_depth
        for parent, dirs, files in fs.walk(root, maxdepth=depth):
            dirs.sort()  # fsspec walks top-down and honours in-place changes: a stable order
            for fname in sorted(files):
                if fnmatch.fnmatchcase(fname, file_pattern):
                    yield File(path=storage.to_url(fs, f"{str(parent).rstrip('/')}/{fname}"), format=self.format)

    async def walk(self, recursive: bool = True, max_depth: int | None = None) -> AsyncIterator[File[T]]:
        """Async form of :meth:`walk_sync` (``async for f in d.walk(): ...``); listing runs in a thread."""
        files = await asyncio.to_thread(lambda: list(self.walk_sync(recursive, "*", max_depth)))
        for f in files:
            yield f

    def list_files_sync(self) -> list[File[T]]:
        """The files at the top level of the directory (not recursive)."""
        return list(self.walk_sync(recursive=False))

    async def list_files(self) -> list[File[T]]:
        """Async form of :meth:`list_files_sync`."""
        return await asyncio.to_thread(self.list_files_sync)

    def get_file_sync(self, name: str) -> File[T] | None:
        """The file called ``name`` (a path relative to the directory) as a :class:`File`, or None if absent."""
        if self.is_empty:
            return None
        fs, root = storage.filesystem(self.path)
        path = f"{root.rstrip('/')}/{name.lstrip('/')}"
        if not fs.isfile(path):
            return None
        return File(path=storage.to_url(fs, path), format=self.format)

    async def get_file(self, name: str) -> File[T] | None:
        """Async form of :meth:`get_file_sync`."""
        return await asyncio.to_thread(self.get_file_sync, name)

    @property
    def is_empty(self) -> bool:
        """True for the "no directory was produced" value (:class:`EmptyDir`, :meth:`empty`), as in
        Flyte 2; a real directory without files is not this (``not d.list_files_sync()`` tells that)."""
        return self.path == EMPTY_DIR_PATH

    @classmethod
    def empty(cls) -> Dir[Any]:
        """The "no directory was produced" value: an :class:`EmptyDir`."""
        return EmptyDir()

    def exists_sync(self) -> bool:
        """True if the directory exists (never for :class:`EmptyDir`)."""
        if self.is_empty:
            return False
        fs, root = storage.filesystem(self.path)
        return bool(fs.exists(root))

    async def exists(self) -> bool:
        """Async form of :meth:`exists_sync`."""
        return await asyncio.to_thread(self.exists_sync)

    # --- downloading -----------------------------------------------------------------------------

    def download_sync(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Copy the whole directory to the local disk; return the local folder's path.

        :param local_path: the folder to copy the files into; by default a new temporary folder
            (``<tmp>/<name>``). A local directory with no ``local_path`` is returned as it is.
        :raises ValueError: for :class:`EmptyDir` (there is nothing to download).
        """
        if self.is_empty:
            raise ValueError("This Dir is EmptyDir (no directory was produced); check dir.is_empty before "
                             "downloading it.")
        fs, root = storage.filesystem(self.path)
        if local_path is None:
            if storage.fs_is_local(fs):
                return root
            dest = os.path.join(tempfile.mkdtemp(prefix="flyte-io-"), self.name or "dir")
        else:
            dest = os.path.abspath(os.fspath(local_path))
        os.makedirs(dest, exist_ok=True)
        for rel, path in storage.list_tree(fs, root):
            target = os.path.join(dest, *rel.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if storage.fs_is_local(fs):
                shutil.copyfile(path, target)
            else:
                fs.get_file(path, target)
        return dest

    async def download(self, local_path: str | os.PathLike[str] | None = None) -> str:
        """Async form of :meth:`download_sync`."""
        return await asyncio.to_thread(self.download_sync, local_path)


@attrs.frozen
class EmptyDir(Dir[Any]):
    """Flyte 2's "no directory was produced" value: a :class:`Dir` whose :attr:`Dir.is_empty` is
    True, for a task that may or may not produce a directory (``return EmptyDir()``). It crosses
    task boundaries as a Dir (the receiver gets a plain ``Dir`` with ``is_empty``); it has no files
    and cannot be downloaded."""

    path: str = attrs.field(default=EMPTY_DIR_PATH, converter=_to_str)
    name: str | None = ""
