"""Data frames for flyte-core: ``pandas.DataFrame``, ``polars.DataFrame``, ``polars.LazyFrame``
and ``pyarrow.Table`` pass between tasks as Parquet files in the run's data store, and
:class:`DataFrame` (re-exported as ``flyte.io.DataFrame``) references a stored frame without
loading it.

Column subsets: ``Annotated[pd.DataFrame, ["a", "b"]]`` (or ``{"a": int, "b": str}``) reads only
those columns and checks that a frame being written has them.
"""

from flyte_types_dataframes.dataframe import CSV, PARQUET, DataFrame

__all__ = ["CSV", "PARQUET", "DataFrame"]
