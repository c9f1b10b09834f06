"""Frames in the data store: Arrow tables written as Parquet (hashed while written) and read back,
through the store's fsspec filesystem.

Choices, measured on 1 GB frames (see bench/frames.py):

- Snappy compression: about as fast as none on incompressible data, and it shrinks the usual
  frames (repeated values, small integers, text) a lot, which matters on object stores.
- No column statistics: our files are read whole (or by column), never filtered by row group, and
  statistics cost about a fifth of the encoding time.
- Dictionary encoding for every column except floating-point ones, where it almost never pays and
  doubles the encoding time while the writer finds out.
- Row groups of about 256 MiB of data: few enough that reading is a handful of large reads.
- Lists keep Arrow's own child name (``item``), so a table reads back equal to what was written.
- Reading with ``ParquetFile.read``, which returns one contiguous chunk per column (the dataset
  reader of ``read_table`` returns 128k-row chunks that pandas would have to copy together).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import fsspec
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from flyte_types_dataframes.hashing import HashingWriter

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from flyte_core.extend import DataStore

PARQUET = "parquet"
CSV = "csv"
#: Parquet compression codec for every frame written.
COMPRESSION = "snappy"
#: Target size (in memory) of one row group.
ROW_GROUP_BYTES = 256 * 1024 * 1024
MIN_ROW_GROUP_ROWS = 64 * 1024
#: Files with less data than this are read on the calling thread only.
THREADS_MIN_BYTES = 4 * 1024 * 1024


def resolve(uri: str, store: DataStore | None) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem and path of ``uri``: the store's own filesystem (and credentials) when the
    URI is under its root, else the filesystem the URI names."""
    if store is not None and (uri == store.root or uri.startswith(store.root.rstrip("/") + "/")):
        path = url_to_fs(uri, **store.storage_options)[1] if "://" in uri else uri
        return store.fs, path
    fs, path = url_to_fs(uri)
    return fs, path


def new_name(suffix: str = ".parquet") -> str:
    """A file name no other writer picks (store path counters are not shared between processes)."""
    return f"{uuid.uuid4().hex[:16]}{suffix}"


def write_parquet(table: pa.Table, fs: fsspec.AbstractFileSystem, path: str) -> str:
    """Write ``table`` as Parquet to ``path`` on ``fs``; return the hash of the file's bytes."""
    import pyarrow.parquet as pq

    parent = path.rsplit("/", 1)[0]
    if parent and isinstance(fs, LocalFileSystem):
        os.makedirs(parent, exist_ok=True)
    elif parent:
        fs.makedirs(parent, exist_ok=True)
    with fs.open(path, "wb") as raw, HashingWriter(raw) as sink:
        pq.write_table(
            table, sink, compression=COMPRESSION, row_group_size=_row_group_rows(table),
            use_dictionary=_dictionary_columns(table.schema), write_statistics=False,
            use_compliant_nested_type=False,
        )
        return sink.hexdigest()


def read_table(
    uri: str, fmt: str, store: DataStore | None, columns: list[str] | None = None, pandas_metadata: bool = False
) -> pa.Table:
    """Read the frame at ``uri`` (Parquet or CSV), only ``columns`` if given.

    ``pandas_metadata`` also reads the columns that hold a pandas index.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    fs, path = resolve(uri, store)
    fmt = fmt or guess_format(uri)
    try:
        if fmt == CSV:
            return _read_csv(fs, path, columns)
        if fmt != PARQUET:
            raise ValueError(f"Data frames are read from Parquet or CSV, not '{fmt}' ({uri}).")
        if isinstance(fs, LocalFileSystem):
            return _read_parquet(pq.ParquetFile(path), columns, pandas_metadata)
        # Range reads through pyarrow's fsspec bridge: column chunks are fetched concurrently.
        arrow_fs = pa.fs.PyFileSystem(pa.fs.FSSpecHandler(fs))
        with arrow_fs.open_input_file(path) as f:
            return _read_parquet(pq.ParquetFile(f, pre_buffer=True), columns, pandas_metadata)
    except (OSError, pa.ArrowException) as e:
        if isinstance(e, FileNotFoundError) or not fs.exists(path):
            raise ValueError(f"The data frame at {uri} does not exist (was its data store removed?).") from None
        raise ValueError(f"Could not read the data frame at {uri} as {fmt}: {e}") from None


def _read_parquet(pf: pq.ParquetFile, columns: list[str] | None, pandas_metadata: bool) -> pa.Table:
    meta = pf.metadata
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    # Threads pay off for big files only: a small one reads 4x faster without the pool hand-offs.
    return pf.read(columns=columns, use_pandas_metadata=pandas_metadata, use_threads=size >= THREADS_MIN_BYTES)


def iter_batches(
    uri: str, fmt: str, store: DataStore | None, columns: list[str] | None, batch_rows: int,
    pandas_metadata: bool = False,
) -> Iterator[pa.RecordBatch]:
    """The frame at ``uri`` as record batches of at most ``batch_rows`` rows, read as they are used."""
    import pyarrow.parquet as pq

    fs, path = resolve(uri, store)
    fmt = fmt or guess_format(uri)
    if fmt == CSV:
        yield from _read_csv(fs, path, columns).to_batches(max_chunksize=batch_rows)
        return
    with fs.open(path, "rb") as f:
        pf = pq.ParquetFile(f)
        if columns is not None and pandas_metadata:
            meta = pf.schema_arrow.pandas_metadata or {}
            columns = [*columns, *(c for c in meta.get("index_columns", []) if isinstance(c, str))]
        yield from pf.iter_batches(batch_size=batch_rows, columns=columns, use_pandas_metadata=pandas_metadata)


def parquet_columns(uri: str, store: DataStore | None = None) -> list[str]:
    """The column names of the Parquet file at ``uri`` (from its footer; pandas index columns excluded)."""
    import pyarrow.parquet as pq

    fs, path = resolve(uri, store)
    with fs.open(path, "rb") as f:
        schema = pq.read_schema(f)
    meta = schema.pandas_metadata or {}
    index = {c for c in meta.get("index_columns", []) if isinstance(c, str)}
    return [n for n in schema.names if n not in index]


def guess_format(uri: str) -> str:
    """``csv`` for ``.csv`` (optionally compressed) names, else ``parquet``."""
    return CSV if _base_name(uri).endswith((".csv", ".tsv")) else PARQUET


def _base_name(uri: str) -> str:
    """The lower-cased file name of ``uri`` without a compression suffix."""
    name = uri.lower().rsplit("/", 1)[-1]
    for ext in (".gz", ".bz2", ".zst", ".xz"):
        name = name.removesuffix(ext)
    return name


def _read_csv(fs: fsspec.AbstractFileSystem, path: str, columns: list[str] | None) -> pa.Table:
    import pyarrow.csv as pcsv

    tab = _base_name(path).endswith(".tsv")
    parse = pcsv.ParseOptions(delimiter="\t") if tab else None
    convert = pcsv.ConvertOptions(include_columns=columns) if columns else None
    with fs.open(path, "rb", compression="infer") as f:
        return pcsv.read_csv(f, parse_options=parse, convert_options=convert)


def _row_group_rows(table: pa.Table) -> int:
    rows = table.num_rows
    if rows == 0:
        return MIN_ROW_GROUP_ROWS
    per_row = max(1, int(table.nbytes) // rows)
    return int(max(MIN_ROW_GROUP_ROWS, min(rows, ROW_GROUP_BYTES // per_row)))


def _dictionary_columns(schema: pa.Schema) -> bool | list[str]:
    import pyarrow as pa

    floats = [f.name for f in schema if pa.types.is_floating(f.type)]
    if not floats:
        return True
    return [f.name for f in schema if not pa.types.is_floating(f.type)]


def local_scratch(name: str) -> str:
    """A path for frames written outside any run (``DataFrame.from_local`` in a plain script)."""
    import tempfile

    return os.path.join(tempfile.gettempdir(), "flyte-dataframes", name)


__all__ = [
    "COMPRESSION", "CSV", "PARQUET", "guess_format", "iter_batches", "local_scratch", "new_name", "parquet_columns",
    "read_table", "resolve", "write_parquet",
]
