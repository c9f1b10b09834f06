"""User hash methods on frames (flyte.io.HashFunction): the user's hash is the frame's cache key,
whether given to ``DataFrame.from_local``, named in an ``Annotated`` return type, or carried by a
frame read from such a literal and handed on unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import polars as pl
import pytest
from flyte_types_dataframes.userhash import HASH_BY

import flyte
from flyte.io import DataFrame, HashFunction
from flyte_core.extend import Run, Session

env = flyte.TaskEnvironment(name="frame_hashing")


def pandas_key(df: pd.DataFrame) -> str:
    return "pd:" + str(int(pd.util.hash_pandas_object(df).sum()))


def polars_key(df: pl.DataFrame) -> str:
    return "pl:" + str(int(df.hash_rows().sum()))


HashedPandas = Annotated[pd.DataFrame, HashFunction.from_fn(pandas_key)]
HashedPolars = Annotated[pl.DataFrame, HashFunction.from_fn(polars_key)]
CACHED = flyte.Cache(behavior="override", version_override="v1")


def sample(tag: str = "x") -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", tag]})


@env.task
def produce(tag: str) -> HashedPandas:
    return sample(tag)


@env.task
def produce_polars(tag: str) -> HashedPolars:
    return pl.DataFrame({"id": [1, 2], "tag": [tag, tag]})


@env.task
async def produce_ref(tag: str) -> DataFrame:
    return await DataFrame.from_local(sample(tag), hash_method=HashFunction.from_fn(pandas_key))


@env.task(cache=CACHED)
def rows(df: pd.DataFrame) -> int:
    return len(df)


@env.task(cache=CACHED)
def rows_polars(df: pl.DataFrame) -> int:
    return df.height


@env.task(cache=CACHED)
async def ref_hash(df: DataFrame) -> str:
    pdf = await df.open(pd.DataFrame).all()
    return f"{df.hash}/{len(pdf)}"


@env.task
def handed_on_twice(tag: str) -> list[int]:
    df = produce(tag)
    return [rows(df), rows(df)]


@env.task
def handed_on_after_a_change(tag: str) -> list[int]:
    df = produce(tag)
    first = rows(df)
    df.loc[0, "name"] = "changed"  # no longer the frame the producer hashed
    return [first, rows(df)]


@env.task
def polars_twice(tag: str) -> list[int]:
    df = produce_polars(tag)
    return [rows_polars(df), rows_polars(df)]


@env.task
async def refs_twice(tag: str) -> list[str]:
    df = await produce_ref(tag)
    return [await ref_hash(df), await ref_hash(df)]


@pytest.fixture
def session(flyte_session: Session) -> Session:
    return flyte_session


def _hits(run: Run, task: str) -> list[bool]:
    return [a.cache_hit for a in run.actions() if a.task.endswith("." + task)]


def test_from_local_records_the_user_hash() -> None:
    df = DataFrame.from_local_sync(sample(), hash_method=HashFunction.from_fn(pandas_key))
    assert df.hash == pandas_key(sample())
    assert DataFrame.from_local_sync(sample(), hash_method="given-key").hash == "given-key"
    with pytest.raises(TypeError, match=r"DataFrame.from_local: hash_method must be"):
        DataFrame.from_local_sync(sample(), hash_method=5)


def test_an_annotated_return_type_hashes_the_frame_with_the_users_function(session: Session) -> None:
    run = session.run(produce, tag="t")
    assert list(run.outputs()[0]["name"]) == ["a", "b", "t"]
    (root,) = run.actions()
    assert root.outputs is not None
    payload = root.outputs["o0"]["d"]
    assert payload["hash"] == pandas_key(sample("t")) and payload[HASH_BY] == "user"


def test_a_frame_read_with_a_user_hash_keeps_it_when_handed_on(session: Session) -> None:
    run = session.run(handed_on_twice, tag="once")
    assert run.outputs()[0] == [3, 3]
    assert _hits(run, "rows") == [False, True]


def test_a_changed_frame_is_hashed_by_content_again(session: Session) -> None:
    run = session.run(handed_on_after_a_change, tag="chg")
    assert run.outputs()[0] == [3, 3]
    assert _hits(run, "rows") == [False, False]


def test_polars_frames_use_their_annotated_hash_function(session: Session) -> None:
    run = session.run(polars_twice, tag="p")
    assert run.outputs()[0] == [2, 2]
    assert _hits(run, "rows_polars") == [False, True]


def test_a_dataframe_reference_carries_its_user_hash_as_cache_key(session: Session) -> None:
    run = session.run(refs_twice, tag="r")
    first, second = run.outputs()[0]
    assert first == second == f"{pandas_key(sample('r'))}/3"
    assert _hits(run, "ref_hash") == [False, True]


@pytest.mark.slow
def test_user_hashes_survive_worker_processes(tmp_path: Path) -> None:
    s = Session(backend="local-process", data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"),
                root_dir=Path(__file__).parent)
    try:
        run = s.run(handed_on_twice, tag="proc")
        assert run.outputs()[0] == [3, 3]
        assert _hits(run, "rows") == [False, True]
    finally:
        s.close()
