"""The run store's one-row-per-action layout (schema 2): a store written by the previous version
(schema 1) opens, is migrated and reads as before; every action of a 10,000-action run is in the
store with its phase, times and outputs; ordinary actions' phase changes are read off their rows,
retried and failed ones keep every change as an event."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from flyte_core.errors.core import RuntimeUserError
from flyte_core.run.session import Session
from flyte_core.runstore.records import Phase
from flyte_core.runstore.sqlite import SQLiteRunStore

V1_STORE = Path(__file__).parent / "data" / "runstore_v1.db"  # written by flyte-core before schema 2

TASKS = '''
import time

import flyte

env = flyte.TaskEnvironment(name="rows")
tries = {"n": 0}


@env.task
def inc(x: int) -> int:
    return x + 1


@env.task
def chain(n: int) -> int:
    total = 0
    for i in range(n):
        total += inc(i)
    return total


@env.task
def slow_inc(x: int) -> int:
    time.sleep(0.002)  # as an action on a container ends: a few at a time
    return x + 1


@env.task
def slow_chain(n: int) -> int:
    return sum(slow_inc(i) for i in range(n))


@env.task(retries=1)
def flaky(x: int) -> int:
    tries["n"] += 1
    if tries["n"] == 1:
        raise ValueError("first attempt fails")
    return x


@env.task
def broken(x: int) -> int:
    raise ValueError("always")


@env.task
def mixed(x: int) -> int:
    return inc(x) + flaky(x)


@env.task
def grouped(x: int) -> int:
    total = inc(x)
    for name in ("0", "", "g"):
        with flyte.group(name):
            total += inc(x)
    return total
'''


@pytest.fixture
def tasks(tmp_path: Path):  # type: ignore[no-untyped-def]
    from flyte_core.task.loader import load_file

    (tmp_path / "rows.py").write_text(TASKS)
    sys.modules.pop("rows", None)
    return load_file(tmp_path / "rows.py", tmp_path)


@pytest.fixture
def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    yield s
    s.close()


def test_a_schema_1_store_is_migrated_and_reads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(V1_STORE, path)
    store = SQLiteRunStore(path)
    (run,) = store.list_runs()
    assert run.phase is Phase.SUCCEEDED and run.outputs == {"o0": {"t": "int", "v": 1, "d": 10}}
    actions = {a.action: a for a in store.get_actions(run.name)}
    assert {k: (a.phase, a.attempts) for k, a in actions.items()} == {
        "a0": (Phase.SUCCEEDED, 1), "a0.1": (Phase.SUCCEEDED, 2), "a0.2": (Phase.SUCCEEDED, 1)}
    assert actions["a0.1"].outputs == {"o0": {"t": "int", "v": 1, "d": 6}}
    retried = [(e.phase, e.attempt, e.message) for e in store.get_events(run.name, "a0.1")]
    assert retried == [(Phase.QUEUED, 0, ""), (Phase.RUNNING, 1, ""),
                       (Phase.QUEUED, 1, "attempt 1 failed (ValueError); retrying in 0s"),
                       (Phase.RUNNING, 2, ""), (Phase.SUCCEEDED, 2, "")]
    assert [e.phase for e in store.get_events(run.name, "a0.2")] == [Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    assert len(store.get_events(run.name)) == 11
    assert [ln.line for _, ln in store.get_logs(run.name)] == ["second attempt 3"]
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("2",)


def test_a_migrated_store_takes_new_runs(tmp_path: Path, tasks) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(V1_STORE, tmp_path / "runs.db")
    s = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    try:
        run = s.run(tasks.mixed, x=1)
        assert run.outputs()[0] == 3
        assert len(s.runs.list_runs()) == 2
        assert [e.phase for e in s.runs.get_events(run.name, "a0.1")] == [
            Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED]
    finally:
        s.close()


def test_every_action_of_a_10000_action_run_is_stored(session: Session, tasks) -> None:  # type: ignore[no-untyped-def]
    n = 10_000
    run = session.run(tasks.chain, n=n)
    assert run.outputs()[0] == sum(range(1, n + 1))
    actions = session.runs.get_actions(run.name)
    assert len(actions) == n + 1
    root, children = actions[0], actions[1:]
    assert root.action == "a0" and root.phase is Phase.SUCCEEDED
    assert [a.action for a in children] == [f"a0.{i}" for i in range(1, n + 1)]
    for i, a in enumerate(children):
        assert a.phase is Phase.SUCCEEDED and a.attempts == 1 and a.parent == "a0"
        assert a.created_at <= a.started_at <= a.ended_at  # type: ignore[operator]
        assert a.inputs == {"x": {"t": "int", "v": 1, "d": i}}
        assert a.outputs == {"o0": {"t": "int", "v": 1, "d": i + 1}}
    # One row per ordinary action, no event rows; their changes are read off the rows.
    with sqlite3.connect(session.runs.path) as db:  # type: ignore[attr-defined]
        assert db.execute("SELECT count(*) FROM events WHERE run = ?", (run.name,)).fetchone() == (0,)
    events = session.runs.get_events(run.name, "a0.5000")
    assert [(e.phase, e.attempt) for e in events] == [(Phase.QUEUED, 0), (Phase.RUNNING, 1), (Phase.SUCCEEDED, 1)]
    assert [e.at for e in events] == [children[4999].created_at, children[4999].started_at, children[4999].ended_at]


def test_retried_and_failed_actions_keep_every_change(session: Session, tasks) -> None:  # type: ignore[no-untyped-def]
    run = session.run(tasks.mixed, x=1)
    events = [(e.action, e.phase, e.attempt) for e in session.runs.get_events(run.name, "a0.2")]
    assert events == [("a0.2", Phase.QUEUED, 0), ("a0.2", Phase.RUNNING, 1), ("a0.2", Phase.QUEUED, 1),
                      ("a0.2", Phase.RUNNING, 2), ("a0.2", Phase.SUCCEEDED, 2)]
    with pytest.raises(RuntimeUserError, match="always"):
        session.run(tasks.broken, x=1)
    failed = session.runs.list_runs(limit=1)[0]
    assert [(e.phase, e.attempt) for e in session.runs.get_events(failed.name)] == [
        (Phase.QUEUED, 0), (Phase.RUNNING, 1), (Phase.FAILED, 1)]


@pytest.mark.parametrize("value", [
    {"o0": {"t": "int", "v": 1, "d": 5}}, {"x": {"t": "bool", "v": 1, "d": True}},
    {"x": {"t": "int", "v": 2, "d": -(10**30)}}, {"x": {"t": "str", "v": 1, "d": 'quote " and \\ back'}},
    {"a": {"t": "int", "v": 1, "d": 1}, "b": {"t": "int", "v": 1, "d": 2}}, {"ü": {"t": "int", "v": 1, "d": 3}},
    {"x": {"t": "float", "v": 1, "d": float("nan")}}, {}, None,
    {"x": {"t": "float", "v": 1, "d": float("-inf")}}, {"x": {"t": "float", "v": 1, "d": -0.0}},
    {"x": {"t": "float", "v": 1, "d": 1.5e-300}}, {"x": {"t": "str", "v": 1, "d": "line\nü \U0001f600 \x00"}},
    {"x": {"t": "bool", "v": 1, "d": False}}, {"x": {"t": "int", "v": True, "d": 1}},
    {"x": {"t": 'q"t', "v": 1, "d": 1}}, {"x": {"d": 1, "t": "int"}},
])
def test_tiny_literals_are_written_as_the_json_encoder_would(value: object) -> None:
    from flyte_core.runstore.sqlrows import from_json, literals_to_json, to_json

    text = literals_to_json(value)  # type: ignore[arg-type]
    assert text == to_json(value)
    assert (from_json(text) == value) or (value is not None and "nan" in repr(value))


def test_a_tiny_recorder_queue_pushes_back_without_losing_or_blocking(session: Session, tasks,  # type: ignore[no-untyped-def]
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from flyte_core.run import recorder

    monkeypatch.setattr(recorder, "_MAX_QUEUED", 8)  # producers wait for the writer almost at once
    run = session.run(tasks.chain, n=2000)
    assert run.outputs()[0] == sum(range(1, 2001))
    actions = session.runs.get_actions(run.name)
    assert len(actions) == 2001 and {a.phase for a in actions} == {Phase.SUCCEEDED}


def test_actions_that_end_slowly_are_committed_together(session: Session, tasks,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    batches: list[int] = []
    write_batch = SQLiteRunStore.write_batch

    def counted(self: SQLiteRunStore, actions: Any, events: Any, logs: Any, **kw: Any) -> None:
        batches.append(len(actions))
        write_batch(self, actions, events, logs, **kw)

    monkeypatch.setattr(SQLiteRunStore, "write_batch", counted)
    run = session.run(tasks.slow_chain, n=60)
    assert run.outputs()[0] == sum(range(1, 61))
    # An action every ~2 ms, a commit at most every 10 ms (group commit): two or more actions per
    # commit on average, even on a loaded machine (one per commit before; the run's rows and the
    # start and end of each action made 64 batches for these 61 actions).
    assert len(batches) <= 30, batches
    actions = session.runs.get_actions(run.name)
    assert len(actions) == 61 and {a.phase for a in actions} == {Phase.SUCCEEDED}


@pytest.mark.parametrize("n", [0, 1, 2, 31, 32, 33, 100])
def test_multi_row_statements_write_every_row_in_order_and_upsert(n: int) -> None:
    from flyte_core.runstore.sqlrows import insert_sql, multi_row_statements

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, a INTEGER, b TEXT)")
    sql = insert_sql("t", ("k", "a", "b"), key=("k",))
    rows = [(f"k{i}", i, None if i % 3 else f"b{i}") for i in range(n)]
    rows += [("k0", -1, "again")] if n else []  # a later row of the same key updates it in place
    for statement, params in multi_row_statements(sql, rows):
        db.execute(statement, params)
    got = db.execute("SELECT k, a, b FROM t ORDER BY rowid").fetchall()
    assert got == ([("k0", -1, "again"), *rows[1:n]] if n else [])


def test_missing_texts_flags_and_phases_are_stored_as_sql_values(session: Session, tasks) -> None:  # type: ignore[no-untyped-def]
    # The recorder binds NULL_TEXT (0) for a missing text and 0/1 for flags (sqlite3 binds those
    # without an adapter lookup): the store still holds NULL, the phase's text and integers, and a
    # group named "0" or "" is kept as it is.
    run = session.run(tasks.grouped, x=1)
    actions = {a.action: a for a in session.runs.get_actions(run.name)}
    assert {k: a.group for k, a in actions.items()} == {"a0": None, "a0.1": None, "a0.2": "0", "a0.3": "",
                                                        "a0.4": "g"}
    assert actions["a0"].parent is None and actions["a0.1"].parent == "a0"
    assert all(a.error is None and a.recovered_from is None and not a.cache_hit for a in actions.values())
    with sqlite3.connect(session.runs.path) as db:  # type: ignore[attr-defined]
        rows = db.execute("SELECT action, typeof(parent), typeof(grp), grp, phase, typeof(error), "
                          "typeof(recovered_from), cache_hit, explicit, typeof(cache_hit), typeof(outputs) "
                          "FROM actions WHERE run = ? ORDER BY action", (run.name,)).fetchall()
    assert rows == [
        ("a0", "null", "null", None, "succeeded", "null", "null", 0, 0, "integer", "text"),
        ("a0.1", "text", "null", None, "succeeded", "null", "null", 0, 0, "integer", "text"),
        ("a0.2", "text", "text", "0", "succeeded", "null", "null", 0, 0, "integer", "text"),
        ("a0.3", "text", "text", "", "succeeded", "null", "null", 0, 0, "integer", "text"),
        ("a0.4", "text", "text", "g", "succeeded", "null", "null", 0, 0, "integer", "text"),
    ]


def test_a_nullable_column_takes_null_text_or_none_and_keeps_every_text() -> None:
    from flyte_core.runstore.sqlrows import NULL_TEXT, insert_sql, multi_row_statements

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, a TEXT, b TEXT)")
    sql = insert_sql("t", ("k", "a", "b"), key=("k",), nullable=("a",))
    assert "NULLIF(?, 0)" in sql
    rows = [("k1", NULL_TEXT, None), ("k2", None, "x"), ("k3", "0", "0"), ("k4", "", "")]
    for statement, params in multi_row_statements(sql, rows):
        db.execute(statement, params)
    assert db.execute("SELECT k, a, typeof(a), b FROM t ORDER BY k").fetchall() == [
        ("k1", None, "null", None), ("k2", None, "null", "x"), ("k3", "0", "text", "0"), ("k4", "", "text", "")]


def test_what_a_thread_puts_as_the_run_closes_is_still_written(session: Session) -> None:
    # The writer stops at its stop item; a change another thread put after it (a racing close)
    # used to stay on the queue, never written. close() now writes it.
    from flyte_core.run import recorder as recorder_module
    from flyte_core.runstore.records import CacheEntry, RunRecord

    run = RunRecord(name="r-late", task="t", phase=Phase.RUNNING, backend="local", created_at=1.0)
    rec = recorder_module.Recorder(session.runs, session.plugins.hook, [], run)
    rec._q.put((recorder_module._STOP, None, None))  # as if close() had just put it
    rec._thread.join()  # the writer is gone
    rec.cache_entry(CacheEntry("t", "k", "v", {"o0": 1}, "r-late", "a0", 2.0))
    rec.close()
    assert session.runs.get_cache("t", "k") is not None
