"""The type conformance suite, run against each frame type and the DataFrame reference."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
import polars as pl
import polars.testing
import pyarrow as pa
from dataframes_samples import arrow_rich, pandas_cases, pandas_rich, polars_rich
from flyte_types_dataframes import DataFrame

from flyte_core.testing.types import TypeTransformerSuite


class TestPandas(TypeTransformerSuite):
    cases = [(pd.DataFrame, df) for df in pandas_cases()] + [
        # Tuples: list and dict metadata make a hint unhashable, and typing.Optional then fails.
        (Annotated[pd.DataFrame, ("f64", "text")], pandas_rich()[["f64", "text"]]),
    ]
    wrong_values = [
        (pd.DataFrame, {"a": [1]}),
        (pd.DataFrame, pa.array([1, 2])),
        (Annotated[pd.DataFrame, ("missing",)], pandas_rich()),
    ]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert type(actual) is pd.DataFrame
        pd.testing.assert_frame_equal(actual, expected, check_exact=True)


class TestPolars(TypeTransformerSuite):
    cases = [
        (pl.DataFrame, polars_rich()),
        (pl.DataFrame, pl.DataFrame({"a": pl.Series([], dtype=pl.Int64)})),
        (Annotated[pl.DataFrame, ("f64", "s")], polars_rich().select("f64", "s")),
    ]
    wrong_values = [(pl.DataFrame, pl.Series([1])), (pl.DataFrame, "frame.parquet")]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert type(actual) is pl.DataFrame
        polars.testing.assert_frame_equal(actual, expected)


class TestLazy(TypeTransformerSuite):
    cases = [(pl.LazyFrame, polars_rich().lazy()), (pl.LazyFrame, pl.LazyFrame({"x": [1, 2]}).with_columns(y=1))]
    wrong_values = [(pl.LazyFrame, {"k": [1]})]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert type(actual) is pl.LazyFrame
        polars.testing.assert_frame_equal(actual.collect(), expected.collect())


class TestArrow(TypeTransformerSuite):
    cases = [(pa.Table, arrow_rich()), (pa.Table, pa.table({"x": pa.array([], pa.float64())}))]
    wrong_values = [(pa.Table, pa.array([1, 2])), (pa.Table, pa.record_batch({"a": [1]}))]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert type(actual) is pa.Table
        assert actual.equals(expected, check_metadata=True), f"{actual}\n!=\n{expected}"


class TestDataFrameReference(TypeTransformerSuite):
    cases = [
        (DataFrame, DataFrame.from_df(pandas_rich())),
        (DataFrame, DataFrame.from_df(polars_rich().select("i8", "s", "d"))),
    ]
    wrong_values = [(DataFrame, "s3://bucket/frame.parquet"), (DataFrame, [1, 2])]

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert type(actual) is DataFrame
        assert actual.format == "parquet" and actual.hash
        kind = type(expected.val)  # read back as the kind of frame it was made from
        want, got = expected.open(kind).all_sync(), actual.open(kind).all_sync()
        if kind is pd.DataFrame:
            pd.testing.assert_frame_equal(got, want)
        else:
            polars.testing.assert_frame_equal(got, want)
