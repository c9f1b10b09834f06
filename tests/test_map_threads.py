"""``flyte.map`` over a sync task from a sync body on the in-process backend: the items run in a
few threads of the map's own (no trip through the run's loop per item), and behave as before:
input order, one grouped child per item, failures as values or raised, an early break."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from flyte_core.errors.core import RuntimeUserError
from flyte_core.run.session import Session

TASKS = '''
import threading
import flyte

env = flyte.TaskEnvironment(name="maps")


@env.task
def double(x: int) -> int:
    if x == 7:
        raise ValueError("seven is refused")
    return 2 * x


@env.task
def where(x: int) -> str:
    return threading.current_thread().name


@env.task
def all_items(n: int) -> list[int]:
    return [r if isinstance(r, int) else -1 for r in flyte.map(double, range(n))]


@env.task
def strict(n: int) -> list[int]:
    return list(flyte.map(double, range(n), return_exceptions=False))


@env.task
def first_three(n: int) -> list[int]:
    out = []
    for r in flyte.map(double, range(n)):
        out.append(r)
        if len(out) == 3:
            break
    return out


@env.task
def threads(n: int, concurrency: int) -> list[str]:
    return list(flyte.map(where, range(n), concurrency=concurrency))


@env.task
def after_map(n: int) -> int:
    done = list(flyte.map(double, range(n)))
    return len(done) + double(1)
'''


@pytest.fixture
def tasks(tmp_path: Path):  # type: ignore[no-untyped-def]
    from flyte_core.task.loader import load_file

    (tmp_path / "maps.py").write_text(TASKS)
    sys.modules.pop("maps", None)
    return load_file(tmp_path / "maps.py", tmp_path)


@pytest.fixture
def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    yield s
    s.close()


def test_items_in_order_grouped_with_failures_as_values(session: Session, tasks) -> None:  # type: ignore[no-untyped-def]
    run = session.run(tasks.all_items, n=40)
    assert run.outputs()[0] == [-1 if i == 7 else 2 * i for i in range(40)]
    children = [a for a in run.actions() if a.parent == "a0"]
    assert [a.action for a in children] == [f"a0.{i}" for i in range(1, 41)]
    assert {a.group for a in children} == {"maps.double_map"}
    phases = {a.action: a.phase.value for a in children}
    assert phases.pop("a0.8") == "failed" and set(phases.values()) == {"succeeded"}
    for a in children:
        if a.phase.value == "succeeded":
            assert a.outputs is not None and a.started_at is not None and a.ended_at is not None


def test_a_long_map_returns_every_item_in_order(session: Session, tasks) -> None:  # type: ignore[no-untyped-def]
    # The map's threads take items and hand results over without locks (single steps under the
    # GIL): thousands of items, each one's result in its place.
    out = session.run(tasks.all_items, n=5000).outputs()[0]
    assert out == [-1 if x == 7 else 2 * x for x in range(5000)]


def test_a_failure_raises_when_exceptions_are_not_returned(session: Session, tasks) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeUserError, match="seven is refused"):
        session.run(tasks.strict, n=20)


def test_an_early_break_stops_the_map_and_leaves_no_thread(session: Session, tasks) -> None:  # type: ignore[no-untyped-def]
    before = {t.ident for t in threading.enumerate()}
    run = session.run(tasks.first_three, n=200)
    assert run.outputs()[0] == [0, 2, 4]
    assert not [t.name for t in threading.enumerate() if t.ident not in before and t.name.startswith("flyte-map")]


def test_concurrency_bounds_the_threads(session: Session, tasks) -> None:  # type: ignore[no-untyped-def]
    names = session.run(tasks.threads, n=30, concurrency=2).outputs()[0]
    # The items run in at most two threads of the map's own.
    assert len(set(names)) <= 2 and all(n.startswith("flyte-map") for n in names)


def test_the_group_ends_with_the_map(session: Session, tasks) -> None:  # type: ignore[no-untyped-def]
    run = session.run(tasks.after_map, n=5)
    assert run.outputs()[0] == 7
    last = [a for a in run.actions() if a.parent == "a0"][-1]
    assert last.group is None
