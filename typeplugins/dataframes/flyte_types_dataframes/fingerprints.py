"""Where a frame's data lives in memory, cheaply: what :mod:`~flyte_types_dataframes.reuse`
compares to tell that a frame is still exactly what was stored.

A fingerprint is built from buffer addresses and sizes plus everything else that shapes the
stored file (schema, column labels, index, dtypes, attributes); it never reads the data, so it
costs microseconds whatever the frame's size. It proves "unchanged" only together with what
:func:`arrow_fingerprint` / :func:`pandas_fingerprint` return as the second element: an object
that keeps the memory alive (so no address is recycled) and, for pandas, makes copy-on-write copy
a column before any write to it.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

#: ``(fingerprint, keep-alive)``, or None when a frame cannot be fingerprinted safely.
Fingerprinted = tuple[Any, Any] | None


def arrow_fingerprint(table: pa.Table) -> Fingerprinted:
    """``table``'s schema (with metadata) and every chunk's offset, length and buffers; kept alive
    by ``table`` itself. None when some memory is out of reach (a dictionary inside a nested type)."""
    import pyarrow as pa

    columns: list[Any] = []
    for field, column in zip(table.schema, table.columns):
        if _nested_dictionary(field.type, nested=False):
            return None
        chunks: list[Any] = []
        for chunk in column.chunks:
            chunks.append((chunk.offset, len(chunk), _buffers(chunk)))
            if pa.types.is_dictionary(chunk.type):
                chunks.append(_buffers(chunk.dictionary))
        columns.append(tuple(chunks))
    return (table.schema.serialize().to_pybytes(), tuple(columns)), table


def pandas_fingerprint(df: Any) -> Fingerprinted:
    """A pandas frame's labels, index, dtypes, attributes and the address of every column's data;
    kept alive by a shallow copy, which also makes copy-on-write copy a column before a write.

    Only for pandas with copy-on-write (pandas 3, or pandas 2 with the option on), and None for
    columns whose memory is not plain arrays (Python objects may change inside an unchanged array).
    """
    parts: list[Any] = []
    for i in range(df.shape[1]):
        key = _array_key(df.iloc[:, i].array)
        if key is None:
            return None
        parts.append(key)
    index = _index_key(df.index)
    if index is None:
        return None
    try:
        attrs = copy.deepcopy(df.attrs)
    except Exception:  # attributes that cannot be copied cannot be compared later either
        return None
    labels = (tuple(df.columns), tuple(df.columns.names), df.columns.dtype)
    return (labels, tuple(df.dtypes), index, attrs, tuple(parts)), df.copy(deep=False)


def _array_key(arr: Any) -> Any:
    """Where a pandas array's data is, or None if that is not known for its kind."""
    import numpy as np
    import pyarrow as pa

    nd = getattr(arr, "_ndarray", None)  # numpy-backed: floats, ints, datetimes, categorical codes
    if isinstance(nd, np.ndarray):
        if nd.dtype.kind == "O":
            return None
        extra = _index_key(arr.categories) if hasattr(arr, "categories") else ()
        return ("nd", _address(nd), extra)
    data, mask = getattr(arr, "_data", None), getattr(arr, "_mask", None)  # nullable Int64, boolean, ...
    if isinstance(data, np.ndarray) and isinstance(mask, np.ndarray):
        return ("masked", _address(data), _address(mask))
    if hasattr(arr, "__arrow_array__") and hasattr(arr, "_pa_array"):  # Arrow-backed (pandas 3 strings)
        chunked = arr.__arrow_array__()
        if isinstance(chunked, pa.ChunkedArray) and not _nested_dictionary(chunked.type, nested=False):
            return ("arrow", tuple((c.offset, len(c), _buffers(c)) for c in chunked.chunks))
    return None


def _index_key(index: Any) -> Any:
    import pandas as pd

    if isinstance(index, pd.RangeIndex):
        return ("range", index.start, index.stop, index.step, tuple(index.names))
    if isinstance(index, pd.MultiIndex):
        return None
    key = _array_key(index.array)
    return None if key is None else ("index", tuple(index.names), index.dtype, key)


def _address(nd: Any) -> tuple[Any, ...]:
    return (nd.__array_interface__["data"][0], nd.shape, nd.strides, nd.dtype.str)


def _buffers(arr: pa.Array) -> tuple[Any, ...]:
    return tuple((b.address, b.size) if b is not None else None for b in arr.buffers())


def _nested_dictionary(t: pa.DataType, nested: bool) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return nested or _nested_dictionary(t.value_type, True)
    return any(_nested_dictionary(t.field(i).type, True) for i in range(t.num_fields))
