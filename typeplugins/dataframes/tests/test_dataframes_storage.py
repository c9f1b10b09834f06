"""The storage layer: hashing while writing, non-local stores, the plugin hook's cost, reuse bookkeeping."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
import uuid
from pathlib import Path

import blake3
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from flyte_types_dataframes import frames
from flyte_types_dataframes.hashing import HashingWriter
from flyte_types_dataframes.reuse import REUSE
from flyte_types_dataframes.storage import write_parquet

from flyte_core.extend import ConversionContext, DataStore, Session


@pytest.fixture(autouse=True)
def remember_small_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests use small frames; let reuse apply to them as it does to big ones."""
    monkeypatch.setattr(frames, "REUSE_MIN_CELLS", 0)


def test_the_hashing_writer_hashes_every_byte_in_order() -> None:
    rng = np.random.default_rng(1)
    chunks = [b"PAR1", rng.bytes(300_000), b"x" * 10, bytearray(rng.bytes(70_000)), memoryview(rng.bytes(5000))]
    raw = io.BytesIO()
    with HashingWriter(raw) as w:
        for c in chunks:
            assert w.write(c) == len(c)
        assert w.tell() == len(raw.getvalue())
    assert w.closed and not raw.closed
    assert w.hexdigest() == blake3.blake3(raw.getvalue()).hexdigest()


def test_writing_is_deterministic_and_hashes_the_file(tmp_path: Path) -> None:
    import fsspec

    table = pa.table({"x": np.arange(300_000, dtype=np.float64), "s": ["a", "b", "c"] * 100_000})
    fs = fsspec.filesystem("file")
    h1 = write_parquet(table, fs, str(tmp_path / "a" / "1.parquet"))
    h2 = write_parquet(table, fs, str(tmp_path / "b" / "2.parquet"))
    assert h1 == h2 == blake3.blake3((tmp_path / "a" / "1.parquet").read_bytes()).hexdigest()
    meta = pq.read_metadata(tmp_path / "a" / "1.parquet")
    assert meta.row_group(0).column(0).compression == "SNAPPY"


def test_frames_through_a_memory_store(tmp_path: Path) -> None:
    session = Session(data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"))
    store = DataStore(f"memory://frames-{uuid.uuid4().hex}")
    ctx = ConversionContext(store=store, prefix=store.url("x"))
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}, index=pd.Index([5, 6], name="i"))
    literal = session.engine.to_literal(df, pd.DataFrame, ctx)
    assert literal["d"]["uri"].startswith("memory://")
    back = session.engine.to_python(json.loads(json.dumps(literal)), pd.DataFrame, ctx)
    pd.testing.assert_frame_equal(back, df)
    as_polars = session.engine.to_python(literal, pl.DataFrame, ctx)
    assert as_polars.columns == ["a", "b"]
    session.close()


def test_the_hook_imports_no_frame_library() -> None:
    code = (
        "import sys, datetime\n"
        "from flyte_types_dataframes.plugin import flyte_type_transformer as hook\n"
        "from flyte_types_dataframes import DataFrame\n"
        "assert all(hook(python_type=t, hint=t) is None for t in (int, str, dict, datetime.date, object, None))\n"
        "assert hook(python_type=DataFrame, hint=DataFrame) is not None\n"
        "print(sorted(m for m in ('pandas', 'polars', 'pyarrow', 'numpy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_remembered_frames_are_forgotten_with_the_frame(tmp_path: Path) -> None:
    session = Session(data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"))
    store = DataStore(str(tmp_path / "s"))
    ctx = ConversionContext(store=store, prefix=str(tmp_path / "s" / "x"))
    before = len(REUSE)
    df = pl.DataFrame({"a": list(range(10))})
    first = session.engine.to_literal(df, pl.DataFrame, ctx)
    assert session.engine.to_literal(df, pl.DataFrame, ctx) == first  # unchanged: same file
    assert len(REUSE) == before + 1
    other = ConversionContext(store=DataStore(str(tmp_path / "t")), prefix=str(tmp_path / "t" / "x"))
    assert session.engine.to_literal(df, pl.DataFrame, other)["d"]["uri"] != first["d"]["uri"]  # other store
    del df
    gc.collect()
    assert len(REUSE) == before
    session.close()


def test_small_frames_are_not_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames, "REUSE_MIN_CELLS", 128 * 1024)
    session = Session(data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"))
    ctx = ConversionContext(store=DataStore(str(tmp_path / "s")), prefix=str(tmp_path / "s" / "x"))
    before = len(REUSE)
    small, big = pl.DataFrame({"a": list(range(10))}), pl.DataFrame({"a": np.arange(200_000)})
    assert session.engine.to_literal(small, pl.DataFrame, ctx) != session.engine.to_literal(small, pl.DataFrame, ctx)
    assert len(REUSE) == before
    assert session.engine.to_literal(big, pl.DataFrame, ctx) == session.engine.to_literal(big, pl.DataFrame, ctx)
    assert len(REUSE) == before + 1
    session.close()
