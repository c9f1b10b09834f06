"""Frames from the command line: Parquet and CSV paths parsed into the hinted frame type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import polars as pl
import polars.testing
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from flyte_types_dataframes import DataFrame

from flyte_core.extend import Session, TypeEngine


@pytest.fixture
def engine(tmp_path: Path) -> TypeEngine:
    return Session(data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db")).engine


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, 1.5, 2.5]})
    out = {"parquet": tmp_path / "in.parquet", "csv": tmp_path / "in.csv", "odd": tmp_path / "frame.data"}
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out["parquet"])
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out["odd"])  # a Parquet file by content
    df.to_csv(out["csv"], index=False)
    return out


EXPECTED = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, 1.5, 2.5]})


@pytest.mark.parametrize("kind", ["parquet", "csv", "odd"])
def test_parquet_and_csv_paths_become_frames(engine: TypeEngine, files: dict[str, Path], kind: str) -> None:
    conv = engine.converter(pd.DataFrame)
    assert conv.cli_form == "Parquet or CSV path"
    assert conv.from_cli is not None
    pd.testing.assert_frame_equal(conv.from_cli(str(files[kind])), EXPECTED)
    polars_conv = engine.converter(pl.DataFrame)
    assert polars_conv.from_cli is not None
    polars.testing.assert_frame_equal(polars_conv.from_cli(str(files[kind])), pl.from_pandas(EXPECTED))
    arrow_conv = engine.converter(pa.Table)
    assert arrow_conv.from_cli is not None
    assert arrow_conv.from_cli(str(files[kind])).num_rows == 3


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_a_column_subset_from_the_command_line(engine: TypeEngine, files: dict[str, Path], kind: str) -> None:
    conv = engine.converter(Annotated[pd.DataFrame, ["c", "a"]])
    assert conv.from_cli is not None
    assert list(conv.from_cli(str(files[kind])).columns) == ["c", "a"]
    missing = engine.converter(Annotated[pd.DataFrame, ["a", "zz"]])
    assert missing.from_cli is not None
    with pytest.raises(ValueError, match="no column 'zz'"):
        missing.from_cli(str(files[kind]))


def test_bad_paths_are_explained(engine: TypeEngine, tmp_path: Path) -> None:
    conv = engine.converter(pd.DataFrame)
    assert conv.from_cli is not None
    with pytest.raises(ValueError, match="is not a file"):
        conv.from_cli(str(tmp_path / "missing.parquet"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="is neither"):
        conv.from_cli(str(tmp_path / "notes.txt"))


def test_a_dataframe_reference_from_the_command_line(engine: TypeEngine, files: dict[str, Path]) -> None:
    conv = engine.converter(DataFrame)
    assert conv.from_cli is not None and conv.cli_form == "Parquet or CSV path"
    ref = conv.from_cli(str(files["csv"]))
    pd.testing.assert_frame_equal(ref.open(pd.DataFrame).all_sync(), EXPECTED)
    remote = conv.from_cli("s3://bucket/frames/f.csv")
    assert remote.uri == "s3://bucket/frames/f.csv" and remote.format == "csv"


TASKS = """
import pandas as pd
import flyte

env = flyte.TaskEnvironment(name="cli_frames")


@env.task
def total(df: pd.DataFrame) -> float:
    return float(df["c"].sum())
"""


def test_flyte_run_with_a_csv_file(tmp_path: Path, files: dict[str, Path]) -> None:
    (tmp_path / "wf.py").write_text(TASKS)
    run = subprocess.run([sys.executable, "-m", "flyte_core.cli", "run", "wf.py", "total", "--df", str(files["csv"])],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "4.5"
    help_text = subprocess.run([sys.executable, "-m", "flyte_core.cli", "run", "wf.py", "total", "--help"],
                               capture_output=True, text=True, cwd=tmp_path, timeout=120).stdout
    assert "Parquet or CSV path" in help_text
