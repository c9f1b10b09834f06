"""How each frame library converts to and from Arrow, with as few copies as the library allows.

Every engine is built on first use, so a library is imported only when a task really uses its
frames: the plugin hook finds engines by looking at ``sys.modules``, never by importing.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from flyte_types_dataframes.fingerprints import Fingerprinted, arrow_fingerprint, pandas_fingerprint

if TYPE_CHECKING:
    import pyarrow as pa


def _no_fingerprint(_frame: Any) -> Fingerprinted:
    return None


@attrs.frozen
class Engine:
    """One frame library's conversions.

    ``to_arrow(frame)`` and ``from_arrow(table, owned)`` convert (``owned``: the table is ours to
    consume, so its memory may be handed over instead of copied); ``columns(frame)`` are the data
    columns' names as Parquet stores them. ``fingerprint(frame)`` says cheaply where the frame's
    data is (see :mod:`~flyte_types_dataframes.fingerprints`), or None when a stored copy of it
    must never be reused. ``pandas_metadata``: read the pandas index columns too.
    ``reuse_written``: a frame may be remembered after it is written (not for lazy plans, whose
    result may change from one collection to the next).
    """

    name: str
    py_type: type
    to_arrow: Callable[[Any], pa.Table]
    from_arrow: Callable[[pa.Table, bool], Any]
    columns: Callable[[Any], list[str]]
    fingerprint: Callable[[Any], Fingerprinted] = _no_fingerprint
    pandas_metadata: bool = False
    reuse_written: bool = True


# --- lookup ------------------------------------------------------------------------------------------


def engine_for_class(cls: Any) -> Engine | None:
    """The engine whose frame type ``cls`` is (or subclasses), among libraries already imported."""
    if not isinstance(cls, type):
        return None
    for module, attr, factory in _KNOWN:
        lib = sys.modules.get(module)
        frame_type = getattr(lib, attr, None) if lib is not None else None
        if isinstance(frame_type, type) and issubclass(cls, frame_type):
            return factory()
    return None


def engine_for_value(value: Any) -> Engine | None:
    """The engine for a frame value (None if ``value`` is no frame we know)."""
    return engine_for_class(type(value))


def qualified_name(cls: type) -> str:
    """``pandas.DataFrame`` rather than ``DataFrame``: several libraries use the same class names."""
    return f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"


def frame_type_names() -> str:
    """The frame types this plugin converts, for messages."""
    return "pandas.DataFrame, polars.DataFrame, polars.LazyFrame or pyarrow.Table"


# --- pandas ------------------------------------------------------------------------------------------


@functools.cache
def pandas_engine() -> Engine:
    """pandas: Arrow conversion keeps the index (a RangeIndex as metadata only) and every dtype."""
    import pandas as pd
    import pyarrow as pa

    def copy_on_write() -> bool:
        # pandas 3 always copies on write; pandas 2 only with the option set.
        if int(pd.__version__.split(".")[0]) >= 3:
            return True
        try:
            return pd.get_option("mode.copy_on_write") is True
        except (KeyError, pd.errors.OptionError):
            return False

    cow = copy_on_write()

    def to_arrow(df: Any) -> pa.Table:
        return pa.Table.from_pandas(df, preserve_index=None)

    def from_arrow(table: pa.Table, owned: bool) -> Any:
        if cow:
            # One block per column lets numeric columns without nulls keep Arrow's memory (no
            # copy); with copy-on-write, pandas copies such a read-only column before a write.
            return table.to_pandas(split_blocks=True, self_destruct=owned)
        return table.to_pandas()  # writable consolidated blocks, as pandas 2 code expects

    def fingerprint(df: Any) -> Fingerprinted:
        # Without copy-on-write, pandas writes shared memory in place: nothing can be proved unchanged.
        return pandas_fingerprint(df) if cow else None

    return Engine("pandas", pd.DataFrame, to_arrow, from_arrow, lambda df: [str(c) for c in df.columns],
                  fingerprint=fingerprint, pandas_metadata=True)


# --- polars ------------------------------------------------------------------------------------------


def _polars_to_arrow(df: Any) -> pa.Table:
    import polars as pl
    import pyarrow as pa

    try:
        # The newest Arrow types are polars' own memory layout (string views): no copy.
        table = df.to_arrow(compat_level=pl.CompatLevel.newest())
    except (AttributeError, TypeError):  # polars < 1.1
        return df.to_arrow()
    # Parquet cannot write dictionaries of string views (categoricals): use the classic layout.
    if any(pa.types.is_dictionary(f.type) and pa.types.is_string_view(f.type.value_type) for f in table.schema):
        return df.to_arrow()
    return table


@functools.cache
def polars_engine() -> Engine:
    """polars.DataFrame: zero-copy both ways for most dtypes."""
    import polars as pl

    def from_arrow(table: pa.Table, owned: bool) -> Any:
        return pl.from_arrow(table, rechunk=False)

    return Engine("polars", pl.DataFrame, _polars_to_arrow, from_arrow, lambda df: list(df.columns),
                  fingerprint=lambda df: arrow_fingerprint(_polars_to_arrow(df)))


@functools.cache
def lazy_engine() -> Engine:
    """polars.LazyFrame: collected when written; read back as a plan over the loaded frame."""
    import polars as pl

    def to_arrow(lf: Any) -> pa.Table:
        return _polars_to_arrow(lf.collect())

    def from_arrow(table: pa.Table, owned: bool) -> Any:
        return pl.from_arrow(table, rechunk=False).lazy()  # type: ignore[union-attr]

    return Engine("polars-lazy", pl.LazyFrame, to_arrow, from_arrow, lambda lf: list(lf.collect_schema().names()),
                  fingerprint=lambda lf: arrow_fingerprint(to_arrow(lf)), reuse_written=False)


# --- pyarrow -----------------------------------------------------------------------------------------


@functools.cache
def arrow_engine() -> Engine:
    """pyarrow.Table: already Arrow, and immutable."""
    import pyarrow as pa

    return Engine("pyarrow", pa.Table, lambda t: t, lambda t, owned: t, lambda t: list(t.schema.names),
                  fingerprint=arrow_fingerprint)


_KNOWN: list[tuple[str, str, Callable[[], Engine]]] = [
    ("pandas", "DataFrame", pandas_engine),
    ("polars", "DataFrame", polars_engine),
    ("polars", "LazyFrame", lazy_engine),
    ("pyarrow", "Table", arrow_engine),
]
