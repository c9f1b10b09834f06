"""Caching: behaviours, keys by content and source, the CLI, and single flight."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import flyte
from flyte_core.run.cache import cache_key, inputs_hash, task_version
from flyte_core.run.session import Session

CACHED = '''
import os, time
import flyte

env = flyte.TaskEnvironment(name="cached", cache="auto")


def helper(x: int) -> int:
    return x * HELPER_FACTOR


@env.task
def square(x: int) -> int:
    with open(os.environ["COUNTER"], "a") as f:
        f.write("x")
    return helper(x)


@env.task(cache=flyte.Cache(behavior="auto", ignored_inputs=("note",)))
def noted(x: int, note: str) -> int:
    with open(os.environ["COUNTER"], "a") as f:
        f.write("n")
    return x


@env.task(cache="disable")
def uncached(x: int) -> int:
    with open(os.environ["COUNTER"], "a") as f:
        f.write("u")
    return x


@env.task
def slow_square(x: int) -> int:
    with open(os.environ["COUNTER"], "a") as f:
        f.write("s")
    time.sleep(0.3)
    return x * x


@env.task(cache="disable")
def twice(x: int) -> list[int]:
    return list(flyte.map(slow_square, [x, x, x]))


@env.task(cache="disable")
def pipeline(x: int) -> int:
    return square(x) + square(x) + uncached(x)
'''


@pytest.fixture
def mod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COUNTER", str(tmp_path / "counter"))

    def load(factor: int = 1, extra: str = ""):  # type: ignore[no-untyped-def]
        from flyte_core.task.loader import load_file

        path = tmp_path / "cached_tasks.py"
        path.write_text(CACHED.replace("HELPER_FACTOR", str(factor)) + extra)
        # The file may be rewritten within the second it was first imported, with the same size:
        # Python would take its stale bytecode as current (a .pyc records whole seconds).
        shutil.rmtree(tmp_path / "__pycache__", ignore_errors=True)
        sys.modules.pop("cached_tasks", None)
        return load_file(path, tmp_path)

    return load


def counter(tmp_path: Path) -> str:
    p = tmp_path / "counter"
    return p.read_text() if p.exists() else ""


def session(tmp_path: Path) -> Session:
    return Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)


def test_auto_cache_hits_across_runs_and_is_recorded(tmp_path: Path, mod) -> None:  # type: ignore[no-untyped-def]
    m = mod()
    s = session(tmp_path)
    run = s.run(m.pipeline, x=3)
    assert run.outputs()[0] == 9
    assert counter(tmp_path) == "xu"  # the second square(3) in the same run was a hit
    hits = {a.action: a.cache_hit for a in run.actions()}
    assert hits == {"a0": False, "a0.1": False, "a0.2": True, "a0.3": False}
    run2 = s.run(m.pipeline, x=3)
    assert run2.outputs()[0] == 9
    assert counter(tmp_path) == "xuu"
    assert [a.cache_hit for a in run2.actions()] == [False, True, True, False]


def test_overwrite_cache_and_override_behaviour(tmp_path: Path, mod) -> None:  # type: ignore[no-untyped-def]
    m = mod()
    s = session(tmp_path)
    s.run(m.square, x=2)
    from flyte_core.run.session import RunOptions

    s.run_with(RunOptions(overwrite_cache=True), m.square, (), {"x": 2})
    assert counter(tmp_path) == "xx"
    # Flyte 2's "override" caches too (its version is version_override, or the source's).
    s.run(m.square.override(cache="override"), x=2)
    assert counter(tmp_path) == "xx"
    s.run(m.square.override(cache=flyte.Cache(behavior="override", version_override="v9")), x=2)
    assert counter(tmp_path) == "xxx"
    s.run(m.square.override(cache=flyte.Cache(behavior="override", version_override="v9")), x=2)
    assert counter(tmp_path) == "xxx"


def test_ignored_inputs_do_not_change_the_key(tmp_path: Path, mod) -> None:  # type: ignore[no-untyped-def]
    m = mod()
    s = session(tmp_path)
    s.run(m.noted, x=1, note="a")
    s.run(m.noted, x=1, note="b")
    s.run(m.noted, x=2, note="b")
    assert counter(tmp_path) == "nn"


def test_editing_the_task_or_its_helper_invalidates(tmp_path: Path, mod) -> None:  # type: ignore[no-untyped-def]
    m1 = mod(factor=1)
    v1 = task_version(m1.square)
    m2 = mod(factor=2)  # only the helper changed
    assert task_version(m2.square) != v1
    s = session(tmp_path)
    assert s.run(m1.square, x=5).outputs()[0] == 5
    assert s.run(m2.square, x=5).outputs()[0] == 10
    assert counter(tmp_path) == "xx"
    explicit = m2.square.override(cache=flyte.Cache(behavior="auto", version_override="v7"))
    assert task_version(explicit) == "v7"


def test_keys_hash_content_not_location() -> None:
    a = {"f": {"t": "files.file", "v": 1, "d": {"uri": "/run1/a.txt", "hash": "abc", "name": "a.txt"}}}
    b = {"f": {"t": "files.file", "v": 1, "d": {"uri": "/run2/a.txt", "hash": "abc", "name": "a.txt"}}}
    c = {"f": {"t": "files.file", "v": 1, "d": {"uri": "/run1/a.txt", "hash": "abd", "name": "a.txt"}}}
    assert inputs_hash(a) == inputs_hash(b) != inputs_hash(c)
    offloaded = {"x": {"t": "list", "v": 1, "uri": "/r1/1.json", "hash": "h"}}
    assert inputs_hash(offloaded) == inputs_hash({"x": {"t": "list", "v": 1, "uri": "/r2/9.json", "hash": "h"}})


def test_concurrent_identical_calls_run_once(tmp_path: Path, mod) -> None:  # type: ignore[no-untyped-def]
    m = mod()
    s = session(tmp_path)
    run = s.run(m.twice, x=4)
    assert run.outputs()[0] == [16, 16, 16]
    assert counter(tmp_path) == "s"
    assert sorted(a.cache_hit for a in run.actions() if a.parent == "a0") == [False, True, True]


def test_cache_is_shared_through_the_data_store(tmp_path: Path, mod) -> None:  # type: ignore[no-untyped-def]
    m = mod()
    Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "one.db")).run(m.square, x=9)
    other = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "two.db"))
    run = other.run(m.square, x=9)
    assert run.actions()[0].cache_hit
    assert counter(tmp_path) == "x"
    key, _ = cache_key(m.square, run.record.inputs or {})
    assert other.runs.get_cache("cached.square", key) is not None  # the index was filled in


def test_cache_cli_list_and_clear(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(CACHED.replace("HELPER_FACTOR", "1"))
    env = {"COUNTER": str(tmp_path / "counter")}

    def flyte_cli(*args: str) -> subprocess.CompletedProcess[str]:
        import os

        return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True,
                              cwd=tmp_path, env={**os.environ, **env}, timeout=120)

    assert flyte_cli("run", "wf.py", "square", "--x", "3").stdout == "3\n"
    assert flyte_cli("run", "wf.py", "noted", "--x", "3", "--note", "n").returncode == 0
    listed = json.loads(flyte_cli("cache", "list", "--json").stdout)
    assert sorted(e["task"] for e in listed) == ["cached.noted", "cached.square"]
    assert flyte_cli("run", "--overwrite-cache", "wf.py", "square", "--x", "3").returncode == 0
    assert counter(tmp_path) == "xnx"
    shown = flyte_cli("runs", "show", json.loads(flyte_cli("runs", "list", "--json").stdout)[0]["name"])
    assert "cache hit" not in shown.stdout
    assert flyte_cli("run", "wf.py", "square", "--x", "3").returncode == 0
    last = json.loads(flyte_cli("runs", "list", "--json").stdout)[0]["name"]
    assert "cache hit" in flyte_cli("runs", "show", last).stdout
    assert flyte_cli("cache", "clear", "cached.square").stdout.strip() == "Removed 1 cache entry of cached.square."
    assert [e["task"] for e in json.loads(flyte_cli("cache", "list", "--json").stdout)] == ["cached.noted"]
    assert flyte_cli("cache", "clear").stdout.strip() == "Removed 1 cache entry."
    assert flyte_cli("run", "wf.py", "square", "--x", "3").returncode == 0
    assert counter(tmp_path) == "xnxx"


class _Seen:
    """An observer keeping every action event it is told."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, str, int, str, bool]] = []

    def on_run(self, event: object) -> None:
        pass

    def on_action(self, event) -> None:  # type: ignore[no-untyped-def]
        self.actions.append((event.action.action, str(event.phase), event.attempt, event.message,
                             event.action.cache_hit))

    def on_log(self, action: str, stream: str, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_cache_hit_is_one_row_and_observers_see_queued_then_served(tmp_path: Path, mod) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from flyte_core.run.session import RunOptions
    from flyte_core.runstore.records import Phase

    m = mod()
    s = session(tmp_path)
    try:
        seen = _Seen()
        run = s.run_with(RunOptions(observers=(seen,)), m.pipeline, (3,), {})
        hit = run.actions()[2]
        assert (hit.action, hit.phase, hit.cache_hit, hit.attempts) == ("a0.2", Phase.SUCCEEDED, True, 0)
        assert hit.outputs == {"o0": {"t": "int", "v": 1, "d": 3}} and hit.inputs == {"x": {"t": "int", "v": 1, "d": 3}}
        assert hit.created_at <= hit.started_at == hit.ended_at  # type: ignore[operator]
        with sqlite3.connect(tmp_path / "runs.db") as db:
            assert db.execute("SELECT count(*) FROM events WHERE action = 'a0.2'").fetchone() == (0,)
        events = s.runs.get_events(run.name, "a0.2")
        assert [(e.phase, e.attempt, e.message) for e in events] == [
            (Phase.QUEUED, 0, ""), (Phase.SUCCEEDED, 0, "cache hit")]
        assert [e for e in seen.actions if e[0] == "a0.2"] == [
            ("a0.2", "queued", 0, "", False), ("a0.2", "succeeded", 0, "cache hit", True)]
    finally:
        s.close()


def test_new_entries_are_indexed_with_their_actions_by_the_run_writer(tmp_path: Path, mod, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from flyte_core.runstore.sqlite import SQLiteRunStore

    m = mod()
    s = session(tmp_path)
    own: list[str] = []  # entries indexed in a transaction of their own (the calling thread)
    put_cache = SQLiteRunStore.put_cache
    monkeypatch.setattr(SQLiteRunStore, "put_cache", lambda self, e: (own.append(e.key), put_cache(self, e)))
    try:
        run = s.run(m.pipeline, x=5)
        assert run.outputs()[0] == 15 and counter(tmp_path) == "xu"
        assert own == []  # the run's writer indexed it, with the action that made it
        key, _ = cache_key(m.square, {"x": {"t": "int", "v": 1, "d": 5}})
        entry = s.runs.get_cache("cached.square", key)
        assert entry is not None and (entry.run, entry.action) == (run.name, "a0.1")
        assert s.data.exists(f"cache/cached.square/{key}.json")  # and its object, for other machines
        assert s.run(m.square, x=5).actions()[0].cache_hit  # the next run hits it
        assert counter(tmp_path) == "xu"
    finally:
        s.close()


def test_a_lookup_after_a_complete_preload_still_finds_what_another_machine_wrote(tmp_path: Path) -> None:
    from flyte_core.run.cache import Cache
    from flyte_core.runstore.sqlite import SQLiteRunStore
    from flyte_core.storage.datastore import DataStore

    data = DataStore(str(tmp_path / "data"))
    here, there = SQLiteRunStore(tmp_path / "here.db"), SQLiteRunStore(tmp_path / "there.db")
    try:
        mine = Cache(here, data)
        mine.put("t", "k1", "v", {"o0": 1}, "r1", "a0")
        looking = Cache(here, data)
        assert looking.outputs("t", "k1") == {"o0": 1}  # preloads every entry of "t" this store has
        assert looking.outputs("t", "k2") is None  # not in the run store: only the data store is asked
        Cache(there, data).put("t", "k2", "v", {"o0": 2}, "r2", "a0")  # another machine, the same data
        assert looking.outputs("t", "k2") == {"o0": 2}
        assert here.get_cache("t", "k2") is not None  # and it is indexed here from now on
    finally:
        here.close()
        there.close()


def test_a_runs_cache_preload_walks_an_index_newest_first(tmp_path: Path) -> None:
    """A run loads a task's most recent entries on its first lookup: in order along an index, not
    sorted (sorting 20,000 entries took 3/4 of the preload). A store made before the index existed
    gets it when opened."""
    import sqlite3

    from flyte_core.runstore.records import CacheEntry
    from flyte_core.runstore.sqlite import RECENT_CACHE_SQL, SQLiteRunStore

    path = tmp_path / "runs.db"
    store = SQLiteRunStore(str(path))
    for i in range(5):
        store.put_cache(CacheEntry(task="t", key=f"k{i}", version="v", outputs={"o0": i}, run="r", action=f"a{i}",
                                   created_at=100.0 + i))
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX cache_recent")  # as an older flyte-core left the store
    conn.commit()
    conn.close()
    store = SQLiteRunStore(str(path))
    assert [k for k, _ in store.recent_cache_outputs("t", 3)] == ["k4", "k3", "k2"]
    assert json.loads(store.recent_cache_outputs("t", 1)[0][1]) == {"o0": 4}
    store.close()
    conn = sqlite3.connect(path)
    plan = conn.execute("EXPLAIN QUERY PLAN " + RECENT_CACHE_SQL, ("t", 3)).fetchall()
    conn.close()
    assert "cache_recent" in str(plan) and "TEMP B-TREE" not in str(plan)
