"""Sample frames shared by the tests: many dtypes, indexes and shapes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa


def pandas_rich() -> pd.DataFrame:
    """Most pandas dtypes, with missing values, under a named string index."""
    n = 6
    return pd.DataFrame(
        {
            "f64": np.linspace(0.0, 1.0, n),
            "f32": np.arange(n, dtype=np.float32),
            "i8": np.arange(n, dtype=np.int8),
            "u64": np.arange(n, dtype=np.uint64),
            "nullable": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
            "flag": [True, False] * 3,
            "text": ["a", "bb", None, "dddd", "", "f"],
            "when": pd.date_range("2026-01-01", periods=n, freq="h", tz="UTC"),
            "naive": pd.date_range("2026-01-01", periods=n, freq="D"),
            "gap": pd.to_timedelta(np.arange(n), unit="s"),
            "cat": pd.Categorical(["x", "y", "x", "z", "y", "x"]),
        },
        index=pd.Index([f"r{i}" for i in range(n)], name="row"),
    )


def pandas_cases() -> list[pd.DataFrame]:
    """Frames whose index, column labels or shape are unusual."""
    multi = pd.DataFrame(
        {"v": [1.0, 2.0, 3.0]}, index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)], names=["k", "n"])
    )
    stepped = pd.DataFrame({"v": [1, 2, 3]}, index=pd.RangeIndex(10, 16, 2))
    by_time = pd.DataFrame({"v": [0.5, 1.5]}, index=pd.DatetimeIndex(["2026-01-01", "2026-02-01"], name="t"))
    int_labels = pd.DataFrame({1: [1.0, 2.0], 2: [3.0, 4.0]})
    empty = pd.DataFrame({"a": pd.Series([], dtype="float64"), "b": pd.Series([], dtype="int64")})
    with_nan = pd.DataFrame({"x": [np.nan, 1.0, np.inf, -0.0]})
    return [pandas_rich(), multi, stepped, by_time, int_labels, empty, with_nan]


def polars_rich() -> pl.DataFrame:
    """Most polars dtypes, with nulls."""
    return pl.DataFrame(
        {
            "i8": pl.Series([1, 2, None], dtype=pl.Int8),
            "u32": pl.Series([1, 2, 3], dtype=pl.UInt32),
            "f32": pl.Series([1.5, None, 3.0], dtype=pl.Float32),
            "f64": [0.1, 0.2, float("nan")],
            "s": ["a", None, "a much longer string than twelve bytes"],
            "b": [True, None, False],
            "d": [dt.date(2026, 1, 1), None, dt.date(2026, 3, 1)],
            "ts": pl.Series([dt.datetime(2026, 1, 1, 12)] * 3).dt.replace_time_zone("Europe/Paris"),
            "dur": [dt.timedelta(seconds=1), None, dt.timedelta(days=2)],
            "l": [[1, 2], [], None],
            "st": [{"x": 1, "y": "a"}, {"x": 2, "y": None}, None],
            "cat": pl.Series(["u", "v", "u"], dtype=pl.Categorical),
            "enum": pl.Series(["lo", "hi", "lo"], dtype=pl.Enum(["lo", "mid", "hi"])),
            "arr": pl.Series([[1, 2], [3, 4], [5, 6]], dtype=pl.Array(pl.Int64, 2)),
            "time": pl.Series(["12:00:00", "13:30:00", "00:00:01"]).str.to_time(),
            "bin": [b"\x00", b"ab", None],
            "dec": pl.Series(["1.25", "2.50", None]).cast(pl.Decimal(10, 2)),
        }
    )


def arrow_rich() -> pa.Table:
    """An Arrow table with nested, dictionary and temporal types and schema metadata."""
    return pa.table(
        {
            "i": pa.array([1, None, 3], pa.int32()),
            "s": pa.array(["a", "b", None], pa.string()),
            "ls": pa.array([[1.0], [], None], pa.list_(pa.float64())),
            "dict": pa.array(["p", "q", "p"]).dictionary_encode(),
            "ts": pa.array([0, 1, 2], pa.timestamp("ms", tz="UTC")),
            "st": pa.array([{"a": 1}, {"a": None}, None], pa.struct([("a", pa.int64())])),
        }
    ).replace_schema_metadata({"origin": "tests"})
