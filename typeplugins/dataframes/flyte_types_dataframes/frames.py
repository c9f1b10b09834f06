"""Storing a frame value and loading it back: the payload both directions agree on.

A payload is ``{"uri", "format", "hash", "columns"}``: where the file is, ``"parquet"`` (or
``"csv"`` for a file referenced as it is), the hash of the file's bytes (None for files this
plugin did not write) and the names of the frame's data columns (None when not known).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flyte_types_dataframes.columns import Columns, check_columns
from flyte_types_dataframes.engines import Engine
from flyte_types_dataframes.reuse import REUSE
from flyte_types_dataframes.storage import PARQUET, new_name, read_table, resolve, write_parquet

if TYPE_CHECKING:
    import pyarrow as pa

    from flyte_core.extend import DataStore

Payload = dict[str, Any]
#: Frames with fewer cells than this are not remembered for reuse: writing one again costs less
#: than fingerprinting it each time it is read and handed on.
REUSE_MIN_CELLS = 128 * 1024


def store_frame(
    engine: Engine, value: Any, store: DataStore, new_path: Callable[[str], str],
    want: Columns | None = None, hint: Any = None,
) -> Payload:
    """Write ``value`` to ``store`` (unless it is already there, unchanged) and return its payload.

    ``new_path(suffix)`` gives a fresh store path; ``want`` columns must be present.
    """
    columns = engine.columns(value)
    if want is not None:
        check_columns(columns, want, hint if hint is not None else engine.py_type, "the frame")
    known = REUSE.lookup(value, store.root, engine)
    if known is not None:
        return known
    table = engine.to_arrow(value)
    # A random part keeps paths unique when several threads share one conversion context.
    uri = new_path(f"-{new_name()}")
    fs, path = resolve(uri, store)
    digest = write_parquet(table, fs, path)
    payload: Payload = {"uri": uri, "format": PARQUET, "hash": digest, "columns": columns}
    if engine.reuse_written and table.num_rows * table.num_columns >= REUSE_MIN_CELLS:
        REUSE.remember(value, store.root, engine, payload)
    return payload


def load_frame(
    engine: Engine, payload: Payload, store: DataStore | None, want: Columns | None = None, hint: Any = None
) -> Any:
    """Read the frame ``payload`` describes as ``engine``'s type (only ``want`` columns, if given)."""
    uri, fmt = payload.get("uri"), payload.get("format") or PARQUET
    if not isinstance(uri, str) or not uri:
        raise ValueError(f"A data frame literal has no uri: {payload!r:.200}")
    have = payload.get("columns")
    where = f"the data frame at {uri}"
    if want is not None and have is not None:
        check_columns(have, want, hint if hint is not None else engine.py_type, where)
    table = read_table(uri, fmt, store, list(want.names) if want else None, pandas_metadata=engine.pandas_metadata)
    if want is not None and have is None:
        check_columns(_data_columns(table), want, hint if hint is not None else engine.py_type, where)
    whole = want is None and table.num_rows * table.num_columns >= REUSE_MIN_CELLS
    if not engine.pandas_metadata:
        table, dropped = drop_pandas_index(table)
        whole = whole and not dropped
    value = engine.from_arrow(table, True)
    if whole and fmt == PARQUET and store is not None:
        # Remember it so that handing this very frame on (unchanged) costs no second write.
        REUSE.remember(value, store.root, engine, payload)
    return value


def arrow_of(value: Any) -> tuple[Engine, pa.Table]:
    """``value``'s engine and Arrow table (a ``TypeError`` if it is no frame this plugin knows)."""
    from flyte_types_dataframes.engines import engine_for_value, frame_type_names

    engine = engine_for_value(value)
    if engine is None:
        raise TypeError(f"expected a data frame ({frame_type_names()}), got {type(value).__name__}")
    return engine, engine.to_arrow(value)


def pandas_index_columns(table: pa.Table) -> list[str]:
    """The columns of ``table`` that hold a pandas index (a RangeIndex is metadata, not a column)."""
    meta = table.schema.pandas_metadata or {}
    return [c for c in meta.get("index_columns", []) if isinstance(c, str)]


def _data_columns(table: pa.Table) -> list[str]:
    index = set(pandas_index_columns(table))
    return [n for n in table.schema.names if n not in index]


def drop_pandas_index(table: pa.Table) -> tuple[pa.Table, bool]:
    """Without pandas, a pandas index is no column: drop it (and the metadata that describes it)."""
    index = [c for c in pandas_index_columns(table) if c in table.schema.names]
    if not index:
        return table, False
    meta = {k: v for k, v in (table.schema.metadata or {}).items() if k != b"pandas"}
    return table.drop_columns(index).replace_schema_metadata(meta or None), True
