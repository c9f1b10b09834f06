"""Type transformers for :class:`File` and :class:`Dir`.

Payload (wire version 1), the same for both: ``{"uri", "name", "format", "hash"}``.

- A value whose path is on the local disk and not already in the data store is uploaded into
  ``ctx.store`` under ``ctx.new_path("/<name>")``; its sha256 is computed while the bytes stream.
- A value already in the store, or at any other URL, is passed by reference: its hash is kept when
  known, otherwise computed by reading it once.
- ``hash`` is a file's sha256 (hex), or for a directory the sha256 over its sorted
  (relative path, file sha256) pairs; a hash the user supplied (a cache key) is kept as given.

Reading a literal back gives a File/Dir pointing at ``uri``; nothing is downloaded.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Callable
from typing import Any

from flyte_core.extend import ConversionContext, Converter, TypeEngine, mismatch
from flyte_types_files import storage
from flyte_types_files.directory import Dir
from flyte_types_files.file import File, FormatName


def hint_format(hint: Any) -> str:
    """The format a generic hint names: ``File["csv"]`` -> ``"csv"``, ``File[DataFrame]`` -> ``"DataFrame"``."""
    args = typing.get_args(hint)
    if not args:
        return ""
    arg = args[0]
    if isinstance(arg, FormatName):
        return arg.name
    if isinstance(arg, str):
        return arg
    if isinstance(arg, typing.ForwardRef):
        return arg.__forward_arg__
    if isinstance(arg, typing.TypeVar):
        return ""
    return str(getattr(arg, "__name__", arg))


def _hint_class(hint: Any, default: type) -> type:
    origin = typing.get_origin(hint) or hint
    return origin if isinstance(origin, type) and issubclass(origin, default) else default


def _kept_in_place(local: str, ctx: ConversionContext) -> bool:
    """True if the local path is already in the data store (or the running task's raw data folder),
    so it is passed by reference instead of copied again."""
    roots = []
    if ctx.store is not None and storage.is_local(ctx.store.root):
        roots.append(storage.local_path(ctx.store.root))
    raw = storage.task_raw_data_path()
    if raw is not None and storage.is_local(raw):
        roots.append(storage.local_path(raw))
    return any(storage.under(local, r) for r in roots)


def _store_target(ctx: ConversionContext, name: str) -> tuple[str, Any, str]:
    """A fresh store location for ``name``: (URI for the payload, filesystem, path on it)."""
    assert ctx.store is not None
    rel = ctx.new_path("/" + (storage.basename(name) or "data"))
    uri = rel if "://" in rel or rel.startswith("/") else ctx.store.url(rel)
    _, path = storage.filesystem(uri, **ctx.store.storage_options)
    return uri, ctx.store.fs, path


def _storage_options(uri: str, ctx: ConversionContext) -> dict[str, Any]:
    # Credentials configured for the data store apply to URLs on the same kind of storage.
    if ctx.store is not None and "://" in uri and uri.split("://", 1)[0] == ctx.store.root.split("://", 1)[0]:
        return dict(ctx.store.storage_options)
    return {}


def file_payload(value: File[Any], ctx: ConversionContext, default_format: str) -> dict[str, Any]:
    """The literal payload of a File, uploading it first when it is a local file outside the store.
    The hash is the one the File carries, else its ``hash_method``'s result, else the sha256."""
    fmt = value.format or default_format
    method = None if value.hash is not None else value.hash_method
    if storage.is_local(value.path):
        src = storage.local_path(value.path)
        if not os.path.isfile(src):
            what = "is a directory, not a file" if os.path.isdir(src) else "does not exist"
            raise ValueError(f"File '{src}' {what}; a File passed between tasks must point at an existing file.")
        if ctx.store is None or _kept_in_place(src, ctx):
            digest = value.hash or storage.hash_file(storage.filesystem(src)[0], src, method)
            return {"uri": src, "name": value.name, "format": fmt, "hash": digest}
        uri, fs, path = _store_target(ctx, value.name or src)
        storage.make_parent(fs, path)
        with open(src, "rb") as r, fs.open(path, "wb") as w:
            digest = storage.copy_hashing(r, w, method)
        return {"uri": uri, "name": value.name, "format": fmt, "hash": value.hash or digest}
    known = value.hash
    if known is None:
        fs, path = storage.filesystem(value.path, **_storage_options(value.path, ctx))
        try:
            known = storage.hash_file(fs, path, method)
        except FileNotFoundError:
            raise ValueError(f"File '{value.path}' does not exist; it cannot be passed between tasks.") from None
    return {"uri": value.path, "name": value.name, "format": fmt, "hash": known}


def dir_payload(value: Dir[Any], ctx: ConversionContext, default_format: str) -> dict[str, Any]:
    """The literal payload of a Dir, uploading its files first when it is a local folder outside the store."""
    fmt = value.format or default_format
    if value.is_empty:  # EmptyDir: nothing to store, and nothing to hash
        return {"uri": value.path, "name": value.name, "format": fmt, "hash": None}
    if storage.is_local(value.path):
        src = storage.local_path(value.path)
        if not os.path.isdir(src):
            what = "is a file, not a directory" if os.path.isfile(src) else "does not exist"
            raise ValueError(f"Directory '{src}' {what}; a Dir passed between tasks must point at an existing "
                             "directory.")
        src_fs, _ = storage.filesystem(src)
        if ctx.store is None or _kept_in_place(src, ctx):
            digest = value.hash or storage.hash_tree(src_fs, src)
            return {"uri": src, "name": value.name, "format": fmt, "hash": digest}
        uri, fs, path = _store_target(ctx, value.name or src)
        digest = storage.copy_tree(src_fs, src, fs, path)
        return {"uri": uri, "name": value.name, "format": fmt, "hash": value.hash or digest}
    known = value.hash
    if known is None:
        fs, path = storage.filesystem(value.path, **_storage_options(value.path, ctx))
        if not fs.exists(path):
            raise ValueError(f"Directory '{value.path}' does not exist; it cannot be passed between tasks.")
        known = storage.hash_tree(fs, path)
    return {"uri": value.path, "name": value.name, "format": fmt, "hash": known}


def file_from_cli(text: str, cls: type = File) -> Any:
    """A File from a command-line value: a local path (which must exist) or any fsspec URL."""
    if storage.is_local(text):
        path = storage.local_path(text)
        if not os.path.isfile(path):
            what = "is a directory, not a file" if os.path.isdir(path) else "does not exist"
            raise ValueError(f"File '{path}' {what}; pass an existing local file or a URL such as s3://bucket/key.")
        return cls(path=path)
    return cls(path=text)


def dir_from_cli(text: str, cls: type = Dir) -> Any:
    """A Dir from a command-line value: a local folder (which must exist) or any fsspec URL."""
    if storage.is_local(text):
        path = storage.local_path(text)
        if not os.path.isdir(path):
            what = "is a file, not a directory" if os.path.isfile(path) else "does not exist"
            raise ValueError(f"Directory '{path}' {what}; pass an existing local folder or a URL such as "
                             "s3://bucket/prefix/.")
        return cls(path=path)
    return cls(path=text)


class _BlobTransformer:
    """Files and folders travel by reference; local ones are uploaded to the data store first.
    Subclasses say which class, how to make the payload, and how to parse the command line."""

    version = 1
    name: str
    kind: type
    dimensionality: str
    payload: Callable[[Any, ConversionContext, str], dict[str, Any]]
    parse: Callable[[str, Any], Any]

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        """Build the converter for ``hint`` (the class, ``Class["csv"]`` or a subclass)."""
        cls = _hint_class(hint, self.kind)
        fmt = hint_format(hint)
        payload, parse = type(self).payload, type(self).parse

        def accepts(v: Any) -> bool:
            return isinstance(v, cls)

        def to_literal(v: Any, ctx: ConversionContext) -> dict[str, Any]:
            if not isinstance(v, cls):
                raise mismatch(hint, v)
            return payload(v, ctx, fmt)

        def to_python(p: dict[str, Any], _ctx: ConversionContext) -> Any:
            return cls(path=p["uri"], name=p.get("name"), format=p.get("format") or fmt, hash=p.get("hash"))

        return Converter(
            self.name, self.version, to_literal, to_python, accepts,
            {"type": "blob", "dimensionality": self.dimensionality, "format": fmt}, py_type=cls,
            from_cli=lambda text: parse(text, cls), cli_form="path or URL",
        )


class FileTransformer(_BlobTransformer):
    """``File`` and ``File[format]``: by reference, with local files uploaded to the data store."""

    name = "files.file"
    kind = File
    dimensionality = "single"
    payload = staticmethod(file_payload)
    parse = staticmethod(file_from_cli)


class DirTransformer(_BlobTransformer):
    """``Dir`` and ``Dir[format]``: by reference, with local folders uploaded to the data store."""

    name = "files.dir"
    kind = Dir
    dimensionality = "multipart"
    payload = staticmethod(dir_payload)
    parse = staticmethod(dir_from_cli)


FILE = FileTransformer()
DIR = DirTransformer()
