"""``flyte.io.DataFrame``: made from frames, local data or existing files; read as any frame type."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import pandas as pd
import polars as pl
import polars.testing
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import flyte
from flyte.io import PARQUET, DataFrame
from flyte_core.extend import Session

env = flyte.TaskEnvironment(name="frame_refs")


@pytest.fixture
def session(flyte_session: Session) -> Session:
    """The isolated session of flyte-core's pytest plugin (stores in a temporary folder)."""
    return flyte_session


def sample(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"a": range(n), "b": [f"v{i}" for i in range(n)], "c": [i / 2 for i in range(n)]})


@env.task
def make_ref(n: int) -> DataFrame:
    return DataFrame.from_df(sample(n))


@env.task
def read_ref(df: DataFrame) -> int:
    pdf = df.open(pd.DataFrame).all_sync()
    assert isinstance(pdf, pd.DataFrame)
    return int(pdf["a"].sum())


@env.task
def ref_pipeline(n: int) -> int:
    return read_ref(make_ref(n))


def test_a_reference_passes_between_tasks(session: Session) -> None:
    assert session.run(ref_pipeline, n=5).outputs()[0] == 10


@env.task
async def read_async(df: DataFrame) -> list[int]:
    whole = await df.open(pl.DataFrame).all()
    parts = [len(p) async for p in df.open(pa.Table).iter(batch_rows=2)]
    return [whole.height, *parts]


def test_async_all_and_iter(session: Session) -> None:
    assert session.run(read_async, df=DataFrame.from_df(sample(5))).outputs()[0] == [5, 2, 2, 1]


@env.task
def stored_in_task(n: int) -> DataFrame:
    df = DataFrame.from_local_sync(sample(n))
    assert df.uri is not None and df.hash is not None
    return df


def test_from_local_inside_a_task_goes_to_the_raw_data_path(session: Session) -> None:
    run = session.run(stored_in_task, n=3)
    ref = run.outputs()[0]
    assert "/raw/" in ref.uri and ref.uri.endswith(".parquet")
    pd.testing.assert_frame_equal(ref.open(pd.DataFrame).all_sync(), sample(3))


def test_from_local_outside_a_task(tmp_path: Path) -> None:
    ref = DataFrame.from_local_sync(sample(4), columns=["a", "c"], remote_destination=str(tmp_path / "out") + "/")
    assert ref.format == PARQUET and Path(ref.uri).parent == tmp_path / "out"
    assert pq.read_table(ref.uri).schema.names == ["a", "c"]
    got = asyncio.run(DataFrame.from_local(pl.DataFrame({"x": [1]}))).open(pl.DataFrame).all_sync()
    polars.testing.assert_frame_equal(got, pl.DataFrame({"x": [1]}))


def test_from_existing_remote_parquet_and_csv(tmp_path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(sample(3), preserve_index=False), tmp_path / "f.parquet")
    sample(3).to_csv(tmp_path / "f.csv", index=False)
    for name in ("f.parquet", "f.csv"):
        ref = DataFrame.from_existing_remote(str(tmp_path / name))
        assert ref.format == name.split(".")[1] and ref.hash is None
        pd.testing.assert_frame_equal(ref.open(pd.DataFrame).all_sync(), sample(3), check_dtype=False)
        assert [len(b) for b in ref.open(pd.DataFrame).iter(batch_rows=2)] == [2, 1]


@env.task
def count_rows(df: pd.DataFrame) -> int:
    return len(df)


def test_a_reference_passes_to_a_task_taking_a_frame(session: Session, tmp_path: Path) -> None:
    sample(4).to_csv(tmp_path / "f.csv", index=False)
    assert session.run(count_rows, df=DataFrame.from_existing_remote(str(tmp_path / "f.csv"))).outputs()[0] == 4


@env.task
def subset_ref(df: Annotated[DataFrame, ["c"]]) -> list[str]:
    return list(df.open(pd.DataFrame).all_sync().columns)


def test_a_reference_with_a_column_subset(session: Session) -> None:
    assert session.run(subset_ref, df=DataFrame.from_df(sample(2))).outputs()[0] == ["c"]
    with pytest.raises(Exception, match="no column 'c'"):
        session.run(subset_ref, df=DataFrame.from_df(pd.DataFrame({"a": [1]})))


@env.task
def bare_frame_as_ref() -> DataFrame:
    return pl.DataFrame({"z": [1, 2, 3]})  # type: ignore[return-value]  # wrapped for the user


def test_a_bare_frame_returned_as_a_dataframe_is_wrapped(session: Session) -> None:
    ref = session.run(bare_frame_as_ref).outputs()[0]
    assert isinstance(ref, DataFrame)
    assert ref.open(pa.Table).all_sync().column("z").to_pylist() == [1, 2, 3]


def test_misuse_is_explained() -> None:
    with pytest.raises(ValueError, match=r"open\(frame_type\) first"):
        DataFrame.from_df(sample()).all_sync()
    with pytest.raises(TypeError, match="takes a frame type"):
        DataFrame.from_df(sample()).open(dict)
    with pytest.raises(TypeError, match="expected a data frame"):
        DataFrame.from_df([1, 2])
    with pytest.raises(ValueError, match="does not exist"):
        DataFrame.from_existing_remote("/nonexistent/x.parquet").open(pd.DataFrame).all_sync()


def test_the_wrapper_converts_in_memory_between_libraries() -> None:
    ref = DataFrame.from_df(sample(3).set_index("b"))
    assert ref.val is not None
    assert ref.open(pl.DataFrame).all_sync().columns == ["a", "c"]
    assert ref.open(pd.DataFrame).all_sync() is ref.val
