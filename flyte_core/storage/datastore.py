"""The data store: where offloaded values, outputs and code bundles live, through fsspec.

A local folder by default; any fsspec URL (``s3://bucket/prefix``, ``gs://...``, ``memory://...``)
when tasks run on other machines. A new kind of storage is an fsspec implementation, not a plugin.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from flyte_core.errors.core import FlyteUsageError

if TYPE_CHECKING:
    import fsspec


class DataStore:
    """One root URL and its fsspec filesystem."""

    def __init__(self, root: str, **storage_options: Any) -> None:
        self.root = root.rstrip("/")
        if not storage_options and "://" in root:  # the process's flyte.storage settings for this protocol
            from flyte_core.storage.config import fsspec_kwargs

            storage_options = fsspec_kwargs(root.split("://", 1)[0])
        self.storage_options = storage_options
        self._fs: fsspec.AbstractFileSystem | None = None
        if "://" in root:
            self._fs, path = _url_to_fs(root, **storage_options)
        else:  # a local folder: fsspec is imported on first use (workers often never need it)
            path = root
        self._root_path = path.rstrip("/")

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        """The fsspec filesystem of the root."""
        if self._fs is None:
            self._fs, _ = _url_to_fs(self.root, **self.storage_options)
        return self._fs

    def url(self, *parts: str) -> str:
        """The full URL of a path under the root; a ``..`` segment is refused, so no part can
        lead outside the root."""
        clean = [p.strip("/") for p in parts if p]
        for part in clean:
            if ".." in part.split("/"):
                raise FlyteUsageError(f"Path part {part!r} contains '..'; data store paths stay under {self.root}.")
        return "/".join([self.root, *clean])

    def _path(self, url_or_rel: str) -> str:
        if "://" in url_or_rel or url_or_rel.startswith("/"):
            return str(_url_to_fs(url_or_rel, **self.storage_options)[1]) if "://" in url_or_rel else url_or_rel
        return f"{self._root_path}/{url_or_rel.lstrip('/')}"

    def put_bytes(self, rel: str, data: bytes, parents: bool = True) -> str:
        """Write ``data`` under the root (its parent folders created, unless ``parents`` is False:
        the caller knows they exist); return its URL."""
        path = self._path(rel)
        parent = path.rsplit("/", 1)[0]
        if parent and parents:
            self.fs.makedirs(parent, exist_ok=True)
        self.fs.pipe_file(path, data)
        return self.url(rel) if "://" not in rel and not rel.startswith("/") else rel

    def get_bytes(self, url_or_rel: str) -> bytes:
        """Read a whole object."""
        data: bytes = self.fs.cat_file(self._path(url_or_rel))
        return data

    def exists(self, url_or_rel: str) -> bool:
        """True if the object exists."""
        return bool(self.fs.exists(self._path(url_or_rel)))

    def open(self, url_or_rel: str, mode: str = "rb") -> IO[Any]:
        """Open an object as a file."""
        if "w" in mode:
            parent = self._path(url_or_rel).rsplit("/", 1)[0]
            self.fs.makedirs(parent, exist_ok=True)
        f: IO[Any] = self.fs.open(self._path(url_or_rel), mode)
        return f

    def rm(self, url_or_rel: str, recursive: bool = False) -> None:
        """Delete an object (or a prefix with ``recursive``)."""
        self.fs.rm(self._path(url_or_rel), recursive=recursive)

    def __repr__(self) -> str:
        return f"DataStore({self.root!r})"


def filesystem(url: str, **storage_options: Any) -> fsspec.AbstractFileSystem:
    """The fsspec filesystem for ``url``."""
    fs, _ = _url_to_fs(url, **storage_options)
    return fs


def _url_to_fs(url: str, **storage_options: Any) -> tuple[fsspec.AbstractFileSystem, str]:
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(url, **storage_options)
    return fs, str(path)
