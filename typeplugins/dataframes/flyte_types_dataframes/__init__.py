"""Data frames for flyte-core: ``pandas.DataFrame``, ``polars.DataFrame``, ``polars.LazyFrame``
and ``pyarrow.Table`` pass between tasks as Parquet files in the run's data store, and
:class:`DataFrame` (re-exported as ``flyte.io.DataFrame``) references a stored frame without
loading it.

Column subsets: ``Annotated[pd.DataFrame, ["a", "b"]]`` (or ``{"a": int, "b": str}``) reads only
those columns and checks that a frame being written has them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core.extend import lazy_exports

if TYPE_CHECKING:
    from flyte_types_dataframes.dataframe import CSV, PARQUET, DataFrame

# Imported on first use: loading the plugin (every `flyte` command does) must not import fsspec and asyncio.
_LAZY = {
    "CSV": "flyte_types_dataframes.dataframe",
    "PARQUET": "flyte_types_dataframes.dataframe",
    "DataFrame": "flyte_types_dataframes.dataframe",
}

__all__ = ["CSV", "PARQUET", "DataFrame"]

__getattr__ = lazy_exports(__name__, _LAZY)
