"""Data frames between tasks on the local backend, against pyarrow's own Parquet round trip of the
same frame, measured in the same run.

Each measurement builds a fresh frame of ``FLYTE_BENCH_FRAME_MB`` MiB (default 1024: 8 float64
columns of random numbers) in the producing task, then times only the hand-off: from the moment
the producer has its frame to the moment the consumer has received it (timestamps taken inside
the tasks). Three hand-offs are timed, for pandas and for polars:

- ``direct``: task A calls task B with the frame (one Parquet write, one read);
- ``via_parent``: a parent runs ``b(a())`` (A writes; the parent reads; handing the same frame on
  reuses A's file; B reads: one write, two reads);
- ``baseline``: ``pyarrow.parquet.write_table`` then ``read_table`` + ``to_pandas`` /
  ``polars.from_arrow`` of the same frame (same compression), with pyarrow's defaults
  (``baseline_plain``) and with the plugin's write options but no hashing (``baseline_tuned``).

Figures are the best of ``FLYTE_BENCH_FRAME_REPEAT`` (default 3) interleaved repetitions. Also
reported: the cost of converting a small frame (100 rows) to a literal and back, and the extra
time per action of passing one between tasks instead of an int.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from flyte_types_dataframes import storage

import flyte
from flyte_core.run.session import Session
from flyte_core.storage.datastore import DataStore
from flyte_core.types.transformer import ConversionContext

FRAME_MB = int(os.environ.get("FLYTE_BENCH_FRAME_MB", "1024"))
REPEAT = int(os.environ.get("FLYTE_BENCH_FRAME_REPEAT", "3"))
COLUMNS = 8
SMALL_ROWS = 100
SMALL_ACTIONS = 50

env = flyte.TaskEnvironment(name="bench_frames")
#: Timestamps the tasks record (the local backend runs them in this process).
MARKS: dict[str, float] = {}


def rows_for(mb: int) -> int:
    """Rows of 8 float64 columns that make ``mb`` MiB."""
    return max(1, mb * 1024 * 1024 // (8 * COLUMNS))


def build_pandas(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(rows)
    return pd.DataFrame({f"c{i}": rng.random(rows) for i in range(COLUMNS)})


def build_polars(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(rows)
    return pl.DataFrame({f"c{i}": rng.random(rows) for i in range(COLUMNS)})


# --- the tasks -------------------------------------------------------------------------------------


@env.task
def pd_consume(df: pd.DataFrame) -> int:
    MARKS["received"] = time.perf_counter()
    return len(df)


@env.task
def pd_direct(rows: int) -> int:
    df = build_pandas(rows)
    MARKS["sent"] = time.perf_counter()
    return pd_consume(df)


@env.task
def pd_produce(rows: int) -> pd.DataFrame:
    df = build_pandas(rows)
    MARKS["sent"] = time.perf_counter()
    return df


@env.task
def pd_via_parent(rows: int) -> int:
    return pd_consume(pd_produce(rows))


@env.task
def pl_consume(df: pl.DataFrame) -> int:
    MARKS["received"] = time.perf_counter()
    return df.height


@env.task
def pl_direct(rows: int) -> int:
    df = build_polars(rows)
    MARKS["sent"] = time.perf_counter()
    return pl_consume(df)


@env.task
def pl_produce(rows: int) -> pl.DataFrame:
    df = build_polars(rows)
    MARKS["sent"] = time.perf_counter()
    return df


@env.task
def pl_via_parent(rows: int) -> int:
    return pl_consume(pl_produce(rows))


@env.task
def small_frame(df: pd.DataFrame) -> pd.DataFrame:
    return df


@env.task
def small_int(x: int) -> int:
    return x


@env.task
def many_frames(n: int) -> int:
    df = pd.DataFrame({"a": np.arange(SMALL_ROWS, dtype=float), "b": np.arange(SMALL_ROWS), "c": ["x"] * SMALL_ROWS})
    for _ in range(n):
        df = small_frame(df.copy())  # a new frame each time: no reuse, a write and a read per action
    return len(df)


@env.task
def many_ints(n: int) -> int:
    x = 0
    for _ in range(n):
        x = small_int(x)
    return x


# --- measuring ---------------------------------------------------------------------------------------


def _through_tasks(session: Session, task: Any, rows: int) -> float:
    MARKS.clear()
    session.run(task, rows=rows)
    shutil.rmtree(Path(session.data.root) / "runs", ignore_errors=True)  # keep the disk free
    return MARKS["received"] - MARKS["sent"]


def _baseline(build: Callable[[int], Any], rows: int, folder: str, tuned: bool) -> float:
    frame = build(rows)
    path = os.path.join(folder, "baseline.parquet")
    is_pandas = isinstance(frame, pd.DataFrame)
    t0 = time.perf_counter()
    table = pa.Table.from_pandas(frame) if is_pandas else frame.to_arrow()
    if tuned:
        pq.write_table(table, path, compression=storage.COMPRESSION, row_group_size=storage._row_group_rows(table),
                       use_dictionary=storage._dictionary_columns(table.schema), write_statistics=False,
                       use_compliant_nested_type=False)
        back = pq.ParquetFile(path).read(use_pandas_metadata=is_pandas)
    else:
        pq.write_table(table, path, compression=storage.COMPRESSION)
        back = pq.read_table(path)
    del table
    result = back.to_pandas() if is_pandas else pl.from_arrow(back)
    elapsed = time.perf_counter() - t0
    del back, result, frame  # the frame lives through the read, as the producer's does in a task
    os.remove(path)
    return elapsed


def _polars_native(rows: int, folder: str) -> float:
    frame = build_polars(rows)
    path = os.path.join(folder, "native.parquet")
    t0 = time.perf_counter()
    frame.write_parquet(path, compression=storage.COMPRESSION)
    back = pl.read_parquet(path)
    elapsed = time.perf_counter() - t0
    del back, frame
    os.remove(path)
    return elapsed


def _small_conversion_us(session: Session, folder: str, hint: Any, value: Any, n: int = 200) -> float:
    store = DataStore(os.path.join(folder, "small"))
    ctx = ConversionContext(store=store, prefix=store.url("x"))
    engine = session.engine
    engine.to_python(engine.to_literal(value, hint, ctx), hint, ctx)  # warm up
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            copy = value.clone() if isinstance(value, pl.DataFrame) else value.copy()  # a new frame: no reuse
            engine.to_python(engine.to_literal(copy, hint, ctx), hint, ctx)
        best = min(best, (time.perf_counter() - t0) / n)
    shutil.rmtree(store.root, ignore_errors=True)
    return best * 1e6


def _per_action_ms(session: Session, task: Any) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        session.run(task, n=SMALL_ACTIONS)
        best = min(best, (time.perf_counter() - t0) / SMALL_ACTIONS)
    shutil.rmtree(Path(session.data.root) / "runs", ignore_errors=True)
    return best * 1e3


def main() -> dict[str, float]:
    """Run the benchmark and return its figures (seconds, except where the name says otherwise)."""
    rows = rows_for(FRAME_MB)
    times: dict[str, list[float]] = {}

    def record(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)
        gc.collect()

    with tempfile.TemporaryDirectory(prefix="flyte-bench-frames-") as tmp:
        session = Session(data_url=f"{tmp}/data", run_store=f"{tmp}/runs.db")
        try:
            session.run(pd_direct, rows=1000)  # warm up: imports, plugins, engines
            session.run(pl_direct, rows=1000)
            for _ in range(REPEAT):
                record("pandas_baseline_plain", _baseline(build_pandas, rows, tmp, tuned=False))
                record("pandas_baseline_tuned", _baseline(build_pandas, rows, tmp, tuned=True))
                record("pandas_direct", _through_tasks(session, pd_direct, rows))
                record("pandas_via_parent", _through_tasks(session, pd_via_parent, rows))
                record("polars_baseline_plain", _baseline(build_polars, rows, tmp, tuned=False))
                record("polars_baseline_tuned", _baseline(build_polars, rows, tmp, tuned=True))
                record("polars_native", _polars_native(rows, tmp))
                record("polars_direct", _through_tasks(session, pl_direct, rows))
                record("polars_via_parent", _through_tasks(session, pl_via_parent, rows))
            small_pd = pd.DataFrame({"a": np.arange(SMALL_ROWS, dtype=float), "b": np.arange(SMALL_ROWS),
                                     "c": ["x"] * SMALL_ROWS})
            small = {
                "small_pandas_roundtrip_us": _small_conversion_us(session, tmp, pd.DataFrame, small_pd),
                "small_polars_roundtrip_us": _small_conversion_us(session, tmp, pl.DataFrame, pl.from_pandas(small_pd)),
                "small_frame_ms_per_action": _per_action_ms(session, many_frames),
                "int_ms_per_action": _per_action_ms(session, many_ints),
            }
        finally:
            session.close()
    out: dict[str, float] = {"frame_mb": float(FRAME_MB), "rows": float(rows)}
    out.update({name: min(ts) for name, ts in times.items()})
    for lib in ("pandas", "polars"):
        for mode in ("direct", "via_parent"):
            out[f"{lib}_{mode}_ratio_plain"] = out[f"{lib}_{mode}"] / out[f"{lib}_baseline_plain"]
            out[f"{lib}_{mode}_ratio_tuned"] = out[f"{lib}_{mode}"] / out[f"{lib}_baseline_tuned"]
    out.update(small)
    return out


def report(r: dict[str, float]) -> None:
    """Print the figures."""
    print(f"frame: {r['frame_mb']:.0f} MiB ({r['rows']:.0f} rows x {COLUMNS} float64), best of {REPEAT}")
    for lib in ("pandas", "polars"):
        print(f"{lib}: pyarrow write+read {r[f'{lib}_baseline_plain']:.2f} s (defaults), "
              f"{r[f'{lib}_baseline_tuned']:.2f} s (plugin's options, no hash)")
        for mode in ("direct", "via_parent"):
            print(f"  {mode:<10} {r[f'{lib}_{mode}']:.2f} s: x{r[f'{lib}_{mode}_ratio_plain']:.2f} vs defaults, "
                  f"x{r[f'{lib}_{mode}_ratio_tuned']:.2f} vs tuned")
    print(f"polars native write_parquet+read_parquet: {r['polars_native']:.2f} s")
    print(f"small frame ({SMALL_ROWS} rows) to literal and back: pandas {r['small_pandas_roundtrip_us']:.0f} us, "
          f"polars {r['small_polars_roundtrip_us']:.0f} us")
    print(f"per action: small pandas frame in and out {r['small_frame_ms_per_action']:.2f} ms, "
          f"int {r['int_ms_per_action']:.2f} ms")


if __name__ == "__main__":
    report(main())
