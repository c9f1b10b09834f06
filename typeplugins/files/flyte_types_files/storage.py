"""Storage helpers shared by File, Dir and their transformers: which filesystem a path lives on,
where a running task puts new data, and copying with a sha256 computed while the bytes stream."""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs
from fsspec.utils import get_protocol

if TYPE_CHECKING:
    from flyte_types_files.hashing import HashMethod

#: Bytes read per step when copying or hashing: big files never sit in memory whole.
CHUNK = 1 << 20


def filesystem(path: str, **storage_options: Any) -> tuple[AbstractFileSystem, str]:
    """The fsspec filesystem of ``path`` and the path as that filesystem spells it."""
    fs, stripped = url_to_fs(path, **storage_options)
    return fs, str(stripped)


def is_local(path: str) -> bool:
    """True for a plain path or a ``file://`` URL (data not yet in any store)."""
    return get_protocol(path) in ("file", "local")


def fs_is_local(fs: AbstractFileSystem) -> bool:
    """True if ``fs`` is the local disk."""
    protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


def local_path(path: str) -> str:
    """An absolute OS path for a plain path or a ``file://`` URL."""
    if "://" in path:
        path = filesystem(path)[1]
    return os.path.abspath(os.path.expanduser(path))


def basename(path: str) -> str:
    """The last part of a path or URL, ignoring a trailing separator (``s3://b/data/`` -> ``data``)."""
    return path.rstrip("/").rstrip(os.sep).rsplit("/", 1)[-1].rsplit(os.sep, 1)[-1]


def to_url(fs: AbstractFileSystem, path: str) -> str:
    """The URL a user passes around for ``path`` on ``fs``: plain for local files, with protocol otherwise."""
    return path if fs_is_local(fs) else str(fs.unstrip_protocol(path))


def under(path: str, root: str) -> bool:
    """True if local ``path`` is ``root`` or inside it (both absolute)."""
    root = root.rstrip(os.sep)
    return path == root or path.startswith(root + os.sep)


def make_parent(fs: AbstractFileSystem, path: str) -> None:
    """Create the folder ``path`` goes in on the local disk (object stores have no folders to make)."""
    if fs_is_local(fs):
        parent = path.rsplit("/", 1)[0]
        if parent:
            fs.makedirs(parent, exist_ok=True)


# --- hashing -------------------------------------------------------------------------------------


def copy_hashing(src: IO[bytes], dst: IO[bytes], method: HashMethod | None = None) -> str:
    """Copy ``src`` into ``dst`` chunk by chunk; return the sha256 (hex) of the bytes copied, or,
    given a user hash ``method``, its result after it was fed every chunk."""
    from flyte_types_files.hashing import feed

    digest = hashlib.sha256()
    while chunk := src.read(CHUNK):
        if method is None:
            digest.update(chunk)
        else:
            feed(method, chunk)
        dst.write(chunk)
    return digest.hexdigest() if method is None else method.result()


def hash_stream(src: IO[bytes], method: HashMethod | None = None) -> str:
    """The sha256 (hex) of everything ``src`` still has to read (or ``method``'s result over it)."""
    from flyte_types_files.hashing import feed

    digest = hashlib.sha256()
    while chunk := src.read(CHUNK):
        if method is None:
            digest.update(chunk)
        else:
            feed(method, chunk)
    return digest.hexdigest() if method is None else method.result()


def hash_file(fs: AbstractFileSystem, path: str, method: HashMethod | None = None) -> str:
    """The sha256 (hex) of one file (or ``method``'s result over its bytes), read once as a stream."""
    with fs.open(path, "rb") as f:
        return hash_stream(f, method)


def tree_hash(entries: Iterable[tuple[str, str]]) -> str:
    """One hash for a directory: sha256 over its (relative path, file hash) pairs in path order, so
    renaming, moving or changing any file changes it, and listing order does not."""
    digest = hashlib.sha256()
    for rel, file_hash in sorted(entries):
        digest.update(f"{rel}\0{file_hash}\n".encode())
    return digest.hexdigest()


def list_tree(fs: AbstractFileSystem, root: str) -> list[tuple[str, str]]:
    """Every file under ``root`` as (path relative to ``root`` with ``/`` separators, full path), sorted."""
    root = root.rstrip("/")
    found = fs.find(root, withdirs=False, detail=False)
    out = []
    for p in found:
        p = str(p)
        rel = p[len(root):].lstrip("/") if p.startswith(root) else basename(p)
        out.append((rel, p))
    return sorted(out)


def hash_tree(fs: AbstractFileSystem, root: str, method: HashMethod | None = None) -> str:
    """The :func:`tree_hash` of the directory ``root``, reading each file once; given a user hash
    ``method``, its result after it was fed every file's bytes in path order."""
    if method is not None:
        files = list_tree(fs, root)
        for _, p in files:
            hash_file(fs, p, method)
        return method.result() if files else tree_hash([])  # an empty folder gives a method no data
    return tree_hash((rel, hash_file(fs, p)) for rel, p in list_tree(fs, root))


def copy_tree(
    src_fs: AbstractFileSystem, src: str, dst_fs: AbstractFileSystem, dst: str, method: HashMethod | None = None
) -> str:
    """Copy the directory ``src`` to ``dst`` file by file, hashing as the bytes stream; return the
    :func:`tree_hash` (or, given a user hash ``method``, its result after every file's bytes in
    path order). ``dst`` is created even when ``src`` is empty, so it exists afterwards."""
    dst = dst.rstrip("/")
    dst_fs.makedirs(dst, exist_ok=True)
    entries = []
    for rel, p in list_tree(src_fs, src):
        target = f"{dst}/{rel}"
        make_parent(dst_fs, target)
        with src_fs.open(p, "rb") as r, dst_fs.open(target, "wb") as w:
            entries.append((rel, copy_hashing(r, w, method)))
    return method.result() if method is not None and entries else tree_hash(entries)


def copy_file(
    src_fs: AbstractFileSystem, src: str, dst_fs: AbstractFileSystem, dst: str, method: HashMethod | None = None
) -> str:
    """Copy one file, hashing as the bytes stream; return its sha256 (hex), or ``method``'s result."""
    make_parent(dst_fs, dst)
    with src_fs.open(src, "rb") as r, dst_fs.open(dst, "wb") as w:
        return copy_hashing(r, w, method)


# --- where a task's new data goes ----------------------------------------------------------------


def task_raw_data_path() -> str | None:
    """The running task's raw data folder (in the run's data store), or None outside a task."""
    from flyte_core.extend import current_context

    ctx = current_context()
    if ctx is None or not ctx.raw_data_path:
        return None
    return ctx.raw_data_path.rstrip("/")


def new_data_path(name: str | None = None) -> str:
    """A fresh path for new data named ``name``: under the running task's raw data folder, or in a
    new local temporary folder outside any task (uploaded when the value leaves the program)."""
    name = name or uuid.uuid4().hex
    raw = task_raw_data_path()
    if raw is None:
        return os.path.join(tempfile.mkdtemp(prefix="flyte-io-"), name)
    return f"{raw}/{uuid.uuid4().hex}/{name}"


def named_data_path(name: str) -> str:
    """A path for ``name`` that is the same every time within one action (so retries find what an
    earlier attempt wrote); outside a task, one fixed local folder per process."""
    if not name or "/" in name or os.sep in name or name in (".", ".."):
        raise ValueError(f"named_remote needs a plain file name without path separators, got {name!r}")
    from flyte_core.extend import current_context

    ctx = current_context()
    if ctx is None or not ctx.raw_data_path:
        return os.path.join(tempfile.gettempdir(), f"flyte-io-named-{os.getpid()}", name)
    return f"{ctx.raw_data_path.rstrip('/')}/named/{ctx.action.name}/{name}"


def upload_destination(name: str, remote_destination: str | None) -> str:
    """Where ``from_local`` puts ``name``: the given destination, or a fresh path under the running
    task's raw data folder (a plain path when that is local)."""
    dest = remote_destination or new_data_path(name)
    return local_path(dest) if is_local(dest) else dest
