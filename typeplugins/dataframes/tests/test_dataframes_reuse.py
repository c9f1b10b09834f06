"""Handing a frame on reuses its stored file only while the frame is unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import polars.testing
import pyarrow as pa
import pytest
from flyte_types_dataframes import frames

from flyte_core.extend import ConversionContext, DataStore, Session, TypeEngine


@pytest.fixture(autouse=True)
def remember_small_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests use small frames; let reuse apply to them as it does to big ones."""
    monkeypatch.setattr(frames, "REUSE_MIN_CELLS", 0)


@pytest.fixture
def engine(tmp_path: Path) -> TypeEngine:
    return Session(data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db")).engine


@pytest.fixture
def ctx(tmp_path: Path) -> ConversionContext:
    store = DataStore(str(tmp_path / "s"))
    return ConversionContext(store=store, prefix=str(tmp_path / "s" / "x"))


def rich_pandas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "f": np.arange(4, dtype=float),
            "s": ["a", "b", "c", "d"],
            "cat": pd.Categorical(["x", "y", "x", "y"]),
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
            "t": pd.date_range("2026-01-01", periods=4, tz="UTC"),
        },
        index=pd.Index([10, 11, 12, 13], name="k"),
    )


def round_trip(engine: TypeEngine, ctx: ConversionContext, hint: Any, value: Any) -> tuple[str, Any]:
    literal = engine.to_literal(value, hint, ctx)
    return literal["d"]["uri"], engine.to_python(json.loads(json.dumps(literal)), hint, ctx)


def uri_of(engine: TypeEngine, ctx: ConversionContext, hint: Any, value: Any) -> str:
    return str(engine.to_literal(value, hint, ctx)["d"]["uri"])


PANDAS_CHANGES: dict[str, Callable[[pd.DataFrame], None]] = {
    "float cell": lambda df: df.iloc.__setitem__((0, 0), 99.0),
    "string cell": lambda df: df.loc.__setitem__((10, "s"), "zz"),
    "categorical cell": lambda df: df.loc.__setitem__((10, "cat"), "y"),
    "nullable cell": lambda df: df.loc.__setitem__((11, "n"), 7),
    "datetime cell": lambda df: df.loc.__setitem__((10, "t"), pd.Timestamp("2030-01-01", tz="UTC")),
    "new column": lambda df: df.__setitem__("new", 1),
    "dropped column": lambda df: df.pop("s"),
    "renamed columns": lambda df: setattr(df, "columns", ["F", "s", "cat", "n", "t"]),
    "index name": lambda df: setattr(df.index, "name", "other"),
    "index values": lambda df: setattr(df, "index", pd.Index([1, 2, 3, 4], name="k")),
    "attrs": lambda df: df.attrs.__setitem__("source", "x"),
    "column overwritten": lambda df: df.loc.__setitem__((slice(None), "f"), df["f"].to_numpy()[::-1].copy()),
    "dtype": lambda df: df.__setitem__("f", df["f"].astype("float32")),
}


@pytest.mark.parametrize("change", list(PANDAS_CHANGES))
def test_a_changed_pandas_frame_is_stored_again(engine: TypeEngine, ctx: ConversionContext, change: str) -> None:
    uri, df = round_trip(engine, ctx, pd.DataFrame, rich_pandas())
    assert uri_of(engine, ctx, pd.DataFrame, df) == uri  # unchanged: reused
    PANDAS_CHANGES[change](df)
    expected = df.copy()
    new_uri, back = round_trip(engine, ctx, pd.DataFrame, df)
    assert new_uri != uri
    pd.testing.assert_frame_equal(back, expected)


def test_a_frame_read_as_a_column_subset_is_not_taken_for_the_whole_file(
    engine: TypeEngine, ctx: ConversionContext
) -> None:
    from typing import Annotated

    literal = engine.to_literal(rich_pandas(), pd.DataFrame, ctx)
    part = engine.to_python(literal, Annotated[pd.DataFrame, ("f",)], ctx)
    assert engine.to_literal(part, pd.DataFrame, ctx)["d"]["uri"] != literal["d"]["uri"]
    assert list(engine.to_python(engine.to_literal(part, pd.DataFrame, ctx), pd.DataFrame, ctx).columns) == ["f"]


def test_polars_and_arrow_frames_are_reused_until_changed(engine: TypeEngine, ctx: ConversionContext) -> None:
    uri, df = round_trip(engine, ctx, pl.DataFrame, pl.DataFrame({"a": [1, 2], "s": ["x", "y"]}))
    assert uri_of(engine, ctx, pl.DataFrame, df) == uri
    df[0, "s"] = "changed"
    new_uri, back = round_trip(engine, ctx, pl.DataFrame, df)
    assert new_uri != uri
    polars.testing.assert_frame_equal(back, df)
    uri, table = round_trip(engine, ctx, pa.Table, pa.table({"a": [1, 2]}))
    assert uri_of(engine, ctx, pa.Table, table) == uri
    assert uri_of(engine, ctx, pa.Table, table.append_column("b", pa.array([3, 4]))) != uri


def test_a_lazy_plan_is_collected_each_time(engine: TypeEngine, ctx: ConversionContext) -> None:
    counter = {"n": 0}

    def bump(s: pl.Series) -> pl.Series:
        counter["n"] += 1
        return s + counter["n"]

    lf = pl.LazyFrame({"a": [1]}).with_columns(pl.col("a").map_batches(bump, return_dtype=pl.Int64))
    first = engine.to_python(engine.to_literal(lf, pl.LazyFrame, ctx), pl.LazyFrame, ctx).collect()
    second = engine.to_python(engine.to_literal(lf, pl.LazyFrame, ctx), pl.LazyFrame, ctx).collect()
    assert first["a"][0] != second["a"][0]  # not taken from the first file
