"""Tests of the SQLite run store: round trips, upserts, queries, log following, concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flyte_core.errors.core import FlyteUsageError
from flyte_core.runstore import ActionRecord, EventRecord, LogLine, Phase, RunRecord, RunStore
from flyte_core.runstore.records import ErrorInfo
from flyte_core.runstore.sqlite import SQLiteRunStore

ERROR = ErrorInfo(code="ValueError", kind="user", message="bad input", traceback="Traceback...\n",
                  action="a0.1")
LITERALS = {"x": {"t": "int", "v": 3}, "s": {"t": "str", "v": "héllo"}, "l": {"t": "list", "v": [1, 2]}}


def _run(name: str, **kw: object) -> RunRecord:
    fields: dict[str, object] = {"task": "wf.main", "phase": Phase.RUNNING, "backend": "local",
                                 "created_at": 100.0}
    fields.update(kw)
    return RunRecord(name=name, **fields)  # type: ignore[arg-type]


def _action(run: str, action: str, **kw: object) -> ActionRecord:
    fields: dict[str, object] = {"parent": None, "task": "wf.step", "phase": Phase.QUEUED}
    fields.update(kw)
    return ActionRecord(run=run, action=action, **fields)  # type: ignore[arg-type]


def _log(action: str, line: str, run: str = "r1") -> LogLine:
    return LogLine(run=run, action=action, attempt=1, at=1.0, stream="stdout", line=line)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteRunStore]:
    s = SQLiteRunStore(tmp_path / "nested" / "dir" / "runs.db")
    yield s
    s.close()


def test_implements_protocol_creates_parents_and_uses_wal(store: SQLiteRunStore) -> None:
    assert isinstance(store, RunStore)
    assert store.path.is_file()
    assert str(store.path) in repr(store)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "runs", "actions", "events", "logs"} <= tables


def test_run_round_trip_with_every_field(store: SQLiteRunStore) -> None:
    run = RunRecord(name="r1", task="wf.main", phase=Phase.FAILED, backend="docker", created_at=1.5,
                    started_at=2.25, ended_at=3.75, inputs=LITERALS, outputs={"o0": {"t": "none"}},
                    error=ERROR, pid=4242, host="box-1", labels={"team": "ml", "env": "dev"})
    store.put_run(run)
    assert store.get_run("r1") == run
    assert store.get_run("missing") is None
    minimal = _run("r2")
    store.put_run(minimal)
    got = store.get_run("r2")
    assert got == minimal
    assert got is not None and got.labels == {} and got.error is None and got.inputs is None


def test_action_round_trip_with_every_field(store: SQLiteRunStore) -> None:
    full = ActionRecord(run="r1", action="a0.1", parent="a0", task="wf.step", phase=Phase.SUCCEEDED,
                        attempts=3, group="fanout", created_at=5.0, started_at=6.0, ended_at=7.0,
                        inputs=LITERALS, outputs={"o0": {"t": "int", "v": 9}}, error=ERROR, cache_hit=True)
    root = ActionRecord(run="r1", action="a0", parent=None, task="wf.main", phase=Phase.RUNNING,
                        created_at=4.0)
    store.put_actions([full, root])
    assert store.get_actions("r1") == [root, full]  # creation order, not insertion order
    assert store.get_actions("other") == []
    assert store.get_action("r1", "a0.1") == full and store.get_action("r1", "a0") == root
    assert store.get_action("r1", "a0.9") is None and store.get_action("other", "a0") is None
    store.put_actions([])  # no-op


def test_events_round_trip_in_order_and_filtered(store: SQLiteRunStore) -> None:
    events = [
        EventRecord(run="r1", action=None, phase=Phase.RUNNING, attempt=0, at=1.0),
        EventRecord(run="r1", action="a0", phase=Phase.QUEUED, attempt=1, at=2.0, message="queued"),
        EventRecord(run="r1", action="a0", phase=Phase.FAILED, attempt=1, at=3.0, message="boom"),
        EventRecord(run="r2", action="a0", phase=Phase.RUNNING, attempt=1, at=4.0),
    ]
    store.add_events(events[:2])
    store.add_events(events[2:])
    assert store.get_events("r1") == events[:3]
    assert store.get_events("r1", "a0") == events[1:3]
    assert store.get_events("r2") == events[3:]
    assert store.get_events("r1", "a9") == []


def test_logs_round_trip_with_sequence_numbers(store: SQLiteRunStore) -> None:
    lines = [LogLine(run="r1", action="a0", attempt=2, at=1.25, stream="stderr", line="oops ✓"),
             LogLine(run="r1", action="a0", attempt=2, at=1.5, stream="stdout", line="")]
    store.add_logs(lines)
    got = store.get_logs("r1")
    assert [line for _, line in got] == lines
    assert got[0][0] < got[1][0]
    assert store.get_logs("r2") == []


def test_put_run_twice_replaces(store: SQLiteRunStore) -> None:
    store.put_run(_run("r1", labels={"a": "1"}, pid=1))
    done = _run("r1", phase=Phase.SUCCEEDED, ended_at=9.0, outputs={"o0": {"t": "int", "v": 1}})
    store.put_run(done)
    assert store.get_run("r1") == done  # labels and pid were replaced, not merged
    assert len(store.list_runs()) == 1


def test_put_actions_replaces_and_keeps_creation_order(store: SQLiteRunStore) -> None:
    store.put_actions([_action("r1", "a0"), _action("r1", "a0.1"), _action("r1", "a0.2")])
    store.put_actions([_action("r1", "a0.1", phase=Phase.RUNNING, attempts=1)])
    store.put_actions([_action("r1", "a0.1", phase=Phase.SUCCEEDED, attempts=2, cache_hit=True)])
    actions = store.get_actions("r1")
    assert [a.action for a in actions] == ["a0", "a0.1", "a0.2"]
    assert actions[1].phase is Phase.SUCCEEDED and actions[1].attempts == 2 and actions[1].cache_hit


def test_list_runs_ordering_and_filters(store: SQLiteRunStore) -> None:
    store.put_run(_run("old", created_at=10.0, phase=Phase.SUCCEEDED, task="wf.a"))
    store.put_run(_run("new", created_at=30.0, phase=Phase.FAILED, task="wf.b"))
    store.put_run(_run("mid", created_at=20.0, phase=Phase.SUCCEEDED, task="wf.b"))

    def names(**kw: object) -> list[str]:
        return [r.name for r in store.list_runs(**kw)]  # type: ignore[arg-type]

    assert names() == ["new", "mid", "old"]
    assert names(limit=2) == ["new", "mid"]
    assert names(phase=Phase.SUCCEEDED) == ["mid", "old"]
    assert names(phase=Phase.RUNNING) == []
    assert names(task="wf.b") == ["new", "mid"]
    assert names(since=20.0) == ["new", "mid"]  # inclusive
    assert names(since=20.0001) == ["new"]
    assert names(phase=Phase.SUCCEEDED, task="wf.b", since=0.0) == ["mid"]


def test_get_logs_descendants_and_after(store: SQLiteRunStore) -> None:
    store.add_logs([_log("a0", "root"), _log("a0.1", "child"), _log("a0.1.2", "grandchild"),
                    _log("a0.10", "sibling ten"), _log("a0.1x", "not a child"), _log("a0.2", "other"),
                    _log("A0.1.3", "case differs"), _log("a0.1", "other run", run="r2")])

    def lines(action: str | None = None, after: int = 0) -> list[str]:
        return [ln.line for _, ln in store.get_logs("r1", action, after=after)]

    assert lines() == ["root", "child", "grandchild", "sibling ten", "not a child", "other", "case differs"]
    assert lines("a0.1") == ["child", "grandchild"]
    assert lines("a0.10") == ["sibling ten"]
    assert lines("a0.1.2") == ["grandchild"]
    assert lines("a0") == ["root", "child", "grandchild", "sibling ten", "not a child", "other"]
    assert lines("a9") == []

    seqs = [seq for seq, _ in store.get_logs("r1", "a0.1")]
    assert lines("a0.1", after=seqs[0]) == ["grandchild"]
    assert lines("a0.1", after=seqs[1]) == []
    store.add_logs([_log("a0.1.2", "later")])
    assert lines("a0.1", after=seqs[1]) == ["later"]  # following picks up only new lines


def test_two_threads_write_500_actions_each(store: SQLiteRunStore) -> None:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            barrier.wait()
            for i in range(500):
                store.put_actions([_action("r1", f"{tag}.{i}", created_at=float(i))])
                if i % 50 == 0:
                    store.add_logs([_log(f"{tag}.{i}", f"{tag} {i}")])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("t0", "t1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = {a.action for a in store.get_actions("r1")}
    assert ids == {f"{t}.{i}" for t in ("t0", "t1") for i in range(500)}
    assert len(store.get_logs("r1")) == 20


def _write_from_process(path: str, tag: str, start: multiprocessing.synchronize.Event) -> None:
    start.wait(30)
    s = SQLiteRunStore(path)
    try:
        s.put_run(_run(f"run-{tag}", created_at=float(len(tag))))
        for i in range(0, 300, 10):
            s.put_actions([_action("shared", f"{tag}.{j}") for j in range(i, i + 10)])
            s.add_events([EventRecord(run="shared", action=f"{tag}.{i}", phase=Phase.RUNNING, attempt=1,
                                      at=float(i))])
            s.add_logs([_log(f"{tag}.{i}", f"{tag} line {i}", run="shared")])
    finally:
        s.close()


@pytest.mark.slow
def test_two_processes_write_concurrently(tmp_path: Path) -> None:
    path = str(tmp_path / "runs.db")
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_write_from_process, args=(path, tag, start)) for tag in ("p0", "p1")]
    for p in procs:
        p.start()
    start.set()  # both processes also race to create the schema
    for p in procs:
        p.join(90)
    assert [p.exitcode for p in procs] == [0, 0]

    s = SQLiteRunStore(path)
    try:
        assert {r.name for r in s.list_runs()} == {"run-p0", "run-p1"}
        ids = {a.action for a in s.get_actions("shared")}
        assert ids == {f"{t}.{i}" for t in ("p0", "p1") for i in range(300)}
        assert len(s.get_events("shared")) == 60
        logs = s.get_logs("shared")
        assert len(logs) == 60
        assert [seq for seq, _ in logs] == sorted(seq for seq, _ in logs)
    finally:
        s.close()


def test_reopening_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    first = SQLiteRunStore(path)
    first.put_run(_run("r1", error=ERROR))
    first.put_actions([_action("r1", "a0")])
    first.add_logs([_log("a0", "hello")])
    first.close()
    with pytest.raises(RuntimeError, match="closed"):
        first.get_run("r1")

    second = SQLiteRunStore(str(path))
    try:
        assert second.get_run("r1") == _run("r1", error=ERROR)
        assert [a.action for a in second.get_actions("r1")] == ["a0"]
        assert [ln.line for _, ln in second.get_logs("r1")] == ["hello"]
    finally:
        second.close()


def test_foreign_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    SQLiteRunStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(FlyteUsageError) as info:
        SQLiteRunStore(path)
    assert str(path) in str(info.value)
    assert "99" in str(info.value)


def test_non_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(b"this is not a database, just some text that is long enough" * 20)
    with pytest.raises(FlyteUsageError) as info:
        SQLiteRunStore(path)
    assert str(path) in str(info.value)


def test_a_writer_killed_mid_write_leaves_a_sound_database(tmp_path: Path) -> None:
    """kill -9 of a process in the middle of writing batches: the file passes SQLite's integrity
    check, every batch that committed is whole, and the store keeps working."""
    import signal
    import subprocess
    import sys
    import time

    db = tmp_path / "crash.db"
    code = f"""
import time
from flyte_core.runstore.sqlite import SQLiteRunStore
from flyte_core.runstore.records import ActionRecord, Phase
s = SQLiteRunStore({str(db)!r})
i = 0
while True:
    s.put_actions([ActionRecord("r", f"a0.{{i}}.{{j}}", None, "t", Phase.RUNNING, created_at=time.time())
                   for j in range(200)])
    i += 1
"""
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 30
    while time.time() < deadline and (not db.exists() or db.stat().st_size < 200_000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    store = SQLiteRunStore(db)
    actions = store.get_actions("r")
    assert actions and len(actions) % 200 == 0  # whole batches only
    store.put_actions([ActionRecord("r", "after", None, "t", Phase.SUCCEEDED)])
    assert "after" in {a.action for a in store.get_actions("r")}
    store.close()


def test_import_run_brings_a_copy_up_to_date_once(tmp_path: Path) -> None:
    """A launcher imports copies of a run store written elsewhere; lines must arrive exactly once,
    also when several importers (the UI's threads, two terminals) import at the same moment."""
    source = SQLiteRunStore(tmp_path / "driver.db")
    target = SQLiteRunStore(tmp_path / "local.db")
    target.put_run(_run("r1", phase=Phase.QUEUED, labels={"launcher": "k"}, abort_requested=True))
    source.put_run(_run("r1", labels={"team": "a"}))
    source.put_actions([_action("r1", "a0"), _action("r1", "a0.1", parent="a0")])
    source.add_events([EventRecord(run="r1", action="a0", phase=Phase.RUNNING, attempt=1, at=1.0)])
    source.add_logs([_log("a0", "one"), _log("a0.1", "two")])
    assert not target.import_run(tmp_path / "driver.db", "nope")

    threads = [threading.Thread(target=target.import_run, args=(tmp_path / "driver.db", "r1", {"launcher": "k"}))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [line.line for _, line in target.get_logs("r1")] == ["one", "two"]
    assert len(target.get_events("r1")) == 1 and len(target.get_actions("r1")) == 2

    source.add_logs([_log("a0.1", "three")])
    source.put_run(_run("r1", phase=Phase.SUCCEEDED, ended_at=200.0, labels={"team": "a"}))
    assert target.import_run(tmp_path / "driver.db", "r1", {"launcher": "k"})
    rec = target.get_run("r1")
    assert rec is not None and rec.phase is Phase.SUCCEEDED
    assert rec.labels == {"team": "a", "launcher": "k"}
    assert rec.abort_requested  # a flag set here is not reset by the copy
    assert [line.line for _, line in target.get_logs("r1")] == ["one", "two", "three"]
    source.close()
    target.close()


def test_a_thread_done_with_the_store_hands_its_connection_to_the_next(tmp_path: Path) -> None:
    from flyte_core.runstore.sqlconn import ThreadConnections

    conns = ThreadConnections(tmp_path / "c.db")
    seen: list[object] = []

    def use(release: bool) -> None:
        conn = conns.get()
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
        seen.append(conn)
        if release:
            conns.release()

    for release in (True, False, False):
        t = threading.Thread(target=use, args=(release,))
        t.start()
        t.join()
    assert seen[1] is seen[0]  # taken over after the first thread released it
    assert seen[2] is not seen[1]  # the second kept its own
    mine = conns.get()
    mine.execute("BEGIN")
    conns.release()  # inside a transaction: kept by this thread
    assert conns.get() is mine
    mine.execute("ROLLBACK")
    conns.close()
    with pytest.raises(sqlite3.ProgrammingError):
        seen[0].execute("SELECT 1")  # type: ignore[attr-defined]
