"""A run whose top-level call is already cached is served from the cache: recorded as a driven hit
would be, without making its backend or starting a loop, a writer or any thread."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from flyte_core.errors.core import FlyteUsageError, PluginError
from flyte_core.extend import BackendRegistry, hookimpl
from flyte_core.run.session import RunOptions, Session
from flyte_core.runstore.records import Phase
from flyte_core.task.loader import load_file

TASKS = '''
import os
import flyte

env = flyte.TaskEnvironment(name="served", cache="auto")


@env.task
def square(x: int) -> int:
    with open(os.environ["COUNTER"], "a") as f:
        f.write("x")
    return x * x


@env.task(cache="disable")
def fresh(x: int) -> int:
    with open(os.environ["COUNTER"], "a") as f:
        f.write("f")
    return x
'''


class _CountedBackend:
    """Registers backend ``counted``: the in-process backend, counting how often one is made."""

    def __init__(self) -> None:
        self.made = 0

    @hookimpl
    def flyte_register_backends(self, registry: BackendRegistry) -> None:
        def make(options: Mapping[str, Any]) -> Any:
            from flyte_backend_local.inprocess import InProcessBackend

            self.made += 1
            return InProcessBackend(options)

        registry.add("counted", make)


class _Observer:
    """A run observer keeping the action events it is told."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, str, bool]] = []

    def on_run(self, event: object) -> None:
        pass

    def on_action(self, event: Any) -> None:
        self.actions.append((event.action.action, str(event.phase), event.action.cache_hit))

    def on_log(self, action: str, stream: str, text: str) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The example plugin, installed where the tests run, observes every action: runs it sees are
    # driven in full. These tests are about the runs of an installation without such a plugin.
    monkeypatch.setenv("FLYTE_BLOCK_PLUGINS", "example")
    monkeypatch.setenv("COUNTER", str(tmp_path / "counter"))
    path = tmp_path / "served_tasks.py"
    path.write_text(TASKS)
    sys.modules.pop("served_tasks", None)
    return load_file(path, tmp_path)


def _counter(tmp_path: Path) -> str:
    p = tmp_path / "counter"
    return p.read_text() if p.exists() else ""


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    yield s
    s.close()


def test_a_cached_run_is_served_without_making_its_backend(tmp_path: Path, tasks: Any, session: Session,
                                                           no_thread_leak: None) -> None:
    backend, counted = _CountedBackend(), RunOptions(backend="counted")
    session.add_plugins(backend)
    first = session.run_with(counted, tasks.square, (7,), {})
    assert (first.outputs()[0], backend.made, _counter(tmp_path)) == (49, 1, "x")
    threads = threading.active_count()
    second = session.run_with(counted, tasks.square, (7,), {})
    assert threading.active_count() == threads  # no loop, writer or heartbeat thread was started
    assert (second.outputs()[0], str(second), backend.made, _counter(tmp_path)) == (49, "49", 1, "x")
    record = session.get_run(second.name)
    assert record is not None
    assert (record.phase, record.backend, record.outputs) == (Phase.SUCCEEDED, "counted",
                                                              {"o0": {"t": "int", "v": 1, "d": 49}})
    assert record.created_at <= record.started_at <= record.ended_at  # type: ignore[operator]
    (a0,) = second.actions()
    assert (a0.action, a0.phase, a0.cache_hit, a0.attempts) == ("a0", Phase.SUCCEEDED, True, 0)
    assert [r.name for r in session.list_runs()] == [second.name, first.name]
    session.run_with(counted, tasks.square, (8,), {})  # another input is a miss: driven, and cached
    assert (backend.made, _counter(tmp_path)) == (2, "xx")


def test_a_served_run_is_recorded_as_a_driven_cache_hit_is(tmp_path: Path, tasks: Any, session: Session) -> None:
    session.run(tasks.square, 3)
    served = session.run(tasks.square, 3)
    watcher = _Observer()
    driven = session.run_with(RunOptions(observers=(watcher,)), tasks.square, (3,), {})  # watched: driven in full
    assert watcher.actions == [("a0", "queued", False), ("a0", "succeeded", True)]
    assert _counter(tmp_path) == "x"

    def same(run: Any) -> tuple[Any, ...]:
        a, r = run.actions()[0], run.record
        return (a.action, a.parent, a.task, a.phase, a.attempts, a.inputs, a.outputs, a.error, a.cache_hit,
                a.recovered_from, r.phase, r.task, r.inputs, r.outputs, r.error, r.pid, r.host)

    assert same(served) == same(driven)
    assert ([(e.phase, e.message) for e in session.runs.get_events(served.name, "a0")]
            == [(e.phase, e.message) for e in session.runs.get_events(driven.name, "a0")])


def test_an_unknown_backend_is_an_error_even_for_a_cached_run(tmp_path: Path, tasks: Any, session: Session) -> None:
    session.run(tasks.square, 2)
    with pytest.raises(PluginError, match="No backend named 'nowhere'"):
        session.run_with(RunOptions(backend="nowhere"), tasks.square, (2,), {})


def test_what_recomputes_or_watches_a_run_drives_it(tmp_path: Path, tasks: Any, session: Session) -> None:
    session.run(tasks.square, 4)
    session.run_with(RunOptions(overwrite_cache=True), tasks.square, (4,), {})
    session.run_with(RunOptions(disable_run_cache=True), tasks.square, (4,), {})
    session.run(tasks.fresh, 4)
    session.run(tasks.fresh, 4)
    assert _counter(tmp_path) == "xxxff"
    served = session.run(tasks.square, 4)
    assert served.actions()[0].cache_hit and _counter(tmp_path) == "xxxff"


def test_a_plugin_observing_actions_sees_a_cached_run(tmp_path: Path, tasks: Any, session: Session) -> None:
    seen: list[tuple[str, bool]] = []

    class Watching:
        @hookimpl
        def flyte_action_event(self, event: Any) -> None:
            seen.append((str(event.phase), event.action.cache_hit))

    session.run(tasks.square, 5)
    session.add_plugins(Watching())
    session.run(tasks.square, 5)
    assert seen == [("queued", False), ("succeeded", True)]
    assert _counter(tmp_path) == "x"


def test_a_cached_run_on_docker_needs_no_engine(tmp_path: Path, tasks: Any, session: Session,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache is shared by every backend of a store: a run on docker whose call the local
    backend cached is served without the docker backend, so with no engine to talk to."""
    session.run(tasks.square, 6)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    run = session.run_with(RunOptions(backend="docker"), tasks.square, (6,), {})
    assert (run.outputs()[0], run.record.backend, run.actions()[0].cache_hit) == (36, "docker", True)
    with pytest.raises(FlyteUsageError, match="cannot reach a Docker engine"):  # a call to run needs one
        session.run_with(RunOptions(backend="docker"), tasks.square, (7,), {})


SCRIPT = '''
import sys
import flyte

# What a run served from the cache does without: the run's loop, its backend, the task context's
# class, and modules whose import alone is a noticeable part of a cold start.
HEAVY = ("asyncio", "flyte_backend_local.inprocess", "flyte_core.run.backend", "flyte_core.runtime.context",
         "pathlib", "textwrap", "dataclasses")
env = flyte.TaskEnvironment(name="served_script", cache="auto")


@env.task
def inc(x: int) -> int:
    return x + 1


if __name__ == "__main__":
    flyte.init()
    run = flyte.run(inc, 41)
    print(run.outputs()[0], *sorted(m for m in HEAVY if m in sys.modules))
'''


def test_a_script_whose_task_is_cached_starts_no_loop_and_no_backend(tmp_path: Path) -> None:
    """What ``bench/coldhit.py`` times: the second run of the script is served from the cache, and
    imports none of the modules the script's cold start does without."""
    (tmp_path / "script.py").write_text(SCRIPT)
    env = {**os.environ, "FLYTE_HOME": str(tmp_path / "home"), "FLYTE_BLOCK_PLUGINS": "example"}
    # An existing FLYTE_HOME, as after any earlier run: the first run then keeps the entry points it
    # scanned (docs/hooks.md), and the second finds them without importlib.metadata.
    (tmp_path / "home").mkdir()

    def run() -> str:
        out = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    first = run().split()
    assert first[0] == "42" and {"asyncio", "flyte_backend_local.inprocess", "flyte_core.run.backend"} <= set(first)
    assert run() == "42"
