"""Frames crossing real task boundaries: producer -> consumer, across libraries, column subsets,
and hand-offs that must (and must not) reuse the stored file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import blake3
import numpy as np
import pandas as pd
import polars as pl
import polars.testing
import pyarrow as pa
import pytest
from flyte_types_dataframes import frames

import flyte
from flyte_core.extend import OUTPUT_NAME, Session

env = flyte.TaskEnvironment(name="frames")


@pytest.fixture(autouse=True)
def remember_small_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests use small frames; let reuse apply to them as it does to big ones."""
    monkeypatch.setattr(frames, "REUSE_MIN_CELLS", 0)


@pytest.fixture
def session(flyte_session: Session) -> Session:
    """The isolated session of flyte-core's pytest plugin (stores in a temporary folder)."""
    return flyte_session


def parquet_files(session: Session) -> list[Path]:
    return sorted(Path(session.data.root).rglob("*.parquet"))


def expected_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"x": np.arange(n, dtype=np.float64), "label": [f"l{i % 3}" for i in range(n)], "n": np.arange(n) * 2},
        index=pd.Index(np.arange(100, 100 + n), name="id"),
    )


@env.task
def produce(n: int) -> pd.DataFrame:
    return expected_frame(n)


@env.task
def describe(df: pd.DataFrame) -> dict[str, str]:
    return {"index": str(df.index.name), "x": str(df["x"].dtype), "first": str(df.index[0]), "sum": str(df["x"].sum())}


@env.task
def pandas_pipeline(n: int) -> dict[str, str]:
    return describe(produce(n))


def test_pandas_task_to_task(session: Session) -> None:
    out = session.run(pandas_pipeline, n=50).outputs()[0]
    assert out == {"index": "id", "x": "float64", "first": "100", "sum": str(float(sum(range(50))))}
    # The parent handed the frame it received straight on: one file, written once.
    assert len(parquet_files(session)) == 1


def test_a_frame_returned_from_a_run_is_equal(session: Session) -> None:
    pd.testing.assert_frame_equal(session.run(produce, n=7).outputs()[0], expected_frame(7))


def test_the_hash_is_the_hash_of_the_stored_bytes(session: Session) -> None:
    literal = session.run(produce, n=20).record.outputs[OUTPUT_NAME]
    (path,) = parquet_files(session)
    assert literal["t"] == "dataframe"
    assert literal["d"]["hash"] == blake3.blake3(path.read_bytes()).hexdigest()
    assert literal["d"]["format"] == "parquet" and literal["d"]["columns"] == ["x", "label", "n"]
    assert literal["d"]["uri"].endswith(".parquet") and Path(literal["d"]["uri"]) == path


@env.task
def mutate_then_pass(n: int) -> dict[str, str]:
    df = produce(n)
    describe(df)  # handed on unchanged: reused
    df.iloc[0, 0] = 1000.0  # written in place: must be stored again
    return describe(df)


@env.task
def rename_then_pass(n: int) -> dict[str, str]:
    df = produce(n)
    describe(df)
    df.index.name = "renamed"  # metadata only, in place
    return describe(df)


def test_a_frame_changed_in_place_is_stored_again(session: Session) -> None:
    out = session.run(mutate_then_pass, n=5).outputs()[0]
    assert out["sum"] == str(1000.0 + 1 + 2 + 3 + 4)
    assert session.run(rename_then_pass, n=5).outputs()[0]["index"] == "renamed"


@env.task
def make_polars(n: int) -> pl.DataFrame:
    return pl.DataFrame({"k": [i % 4 for i in range(n)], "v": [float(i) for i in range(n)], "s": ["a"] * n})


@env.task
def polars_sum(df: pl.DataFrame) -> float:
    return float(df["v"].sum())


@env.task
def polars_bump_then_pass(n: int) -> list[float]:
    df = make_polars(n)
    before = polars_sum(df)
    df[0, "v"] = 100.0
    return [before, polars_sum(df)]


def test_polars_changed_in_place_is_stored_again(session: Session) -> None:
    assert session.run(polars_bump_then_pass, n=4).outputs()[0] == [6.0, 106.0]


@env.task
def lazy_source(n: int) -> pl.LazyFrame:
    return pl.LazyFrame({"k": list(range(n))}).with_columns(sq=pl.col("k") ** 2)


@env.task
def lazy_filter(lf: pl.LazyFrame) -> pl.LazyFrame:
    return lf.filter(pl.col("k") % 2 == 0)


@env.task
def lazy_pipeline(n: int) -> pl.DataFrame:
    return lazy_filter(lazy_source(n)).collect()


def test_polars_lazyframe_pipeline(session: Session) -> None:
    got = session.run(lazy_pipeline, n=6).outputs()[0]
    polars.testing.assert_frame_equal(got, pl.DataFrame({"k": [0, 2, 4], "sq": [0, 4, 16]}))


@env.task
def pandas_to_polars(n: int) -> list[str]:
    df = produce(n)
    return list(as_polars(df).columns)


@env.task
def as_polars(df: pl.DataFrame) -> pl.DataFrame:
    return df


@env.task
def to_arrow_and_back(df: pa.Table) -> pd.DataFrame:
    return df.to_pandas()


def test_frames_cross_libraries(session: Session) -> None:
    # pandas' index is no column for polars, as with polars.from_pandas.
    assert session.run(pandas_to_polars, n=3).outputs()[0] == ["x", "label", "n"]
    got = session.run(to_arrow_and_back, df=pl.DataFrame({"a": [1, 2]})).outputs()[0]
    pd.testing.assert_frame_equal(got, pd.DataFrame({"a": [1, 2]}))


@env.task
def only_x_and_label(df: Annotated[pd.DataFrame, {"x": float, "label": str}]) -> list[str]:
    return [*df.columns, str(df.index.name)]


@env.task
def only_listed(df: Annotated[pl.DataFrame, ["v"]]) -> list[str]:
    return list(df.columns)


@env.task
def subset_pipeline(n: int) -> list[str]:
    return only_x_and_label(produce(n))


def test_annotated_column_subsets_read_only_those_columns(session: Session) -> None:
    assert session.run(subset_pipeline, n=4).outputs()[0] == ["x", "label", "id"]
    assert session.run(only_listed, df=pl.DataFrame({"v": [1.0], "w": [2.0]})).outputs()[0] == ["v"]


@env.task
def wants_missing(df: Annotated[pd.DataFrame, ["x", "nope"]]) -> int:
    return len(df)


@env.task
def returns_without_column() -> Annotated[pd.DataFrame, ["x", "nope"]]:
    return expected_frame(3)


@env.task
def passes_to_missing(n: int) -> int:
    return wants_missing(produce(n))


def test_a_column_the_subset_names_but_the_frame_lacks_is_a_clear_error(session: Session) -> None:
    with pytest.raises(Exception, match=r"no column 'nope' \(its columns: 'x', 'label', 'n'\)"):
        session.run(wants_missing, df=expected_frame(2))
    with pytest.raises(Exception, match=r"no column 'nope'"):
        session.run(returns_without_column)
    with pytest.raises(Exception, match=r"no column 'nope'"):
        session.run(passes_to_missing, n=2)


@env.task
def fan_out(n: int) -> list[float]:
    df = produce(n)
    return [float(len(describe(df))) for _ in range(3)]


def test_one_frame_handed_to_many_tasks_is_stored_once(session: Session) -> None:
    session.run(fan_out, n=10)
    assert len(parquet_files(session)) == 1
