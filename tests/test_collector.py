"""The garbage collector's first threshold is raised while runs are driven, and put back after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import flyte
from flyte_core.run.collector import RUN_THRESHOLD, fewer_collections
from flyte_core.run.session import Session

env = flyte.TaskEnvironment(name="collected")


@env.task
def threshold() -> int:
    return gc.get_threshold()[0]


@env.task
def fails() -> int:
    raise ValueError("boom")


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_a_run_sees_the_raised_threshold_and_leaves_the_default_behind(tmp_path: Path) -> None:
    s = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"))
    try:
        assert s.run(threshold).outputs() == (RUN_THRESHOLD,)
        assert gc.get_threshold() == (700, 10, 10)
        with pytest.raises(ValueError):
            s.run(fails)
        assert gc.get_threshold() == (700, 10, 10)  # a failed run puts it back too
    finally:
        s.close()


def test_runs_at_once_share_one_change_put_back_by_the_last() -> None:
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[int] = []

    def first() -> None:
        with fewer_collections():
            first_in.set()
            second_done.wait(10)
            seen.append(gc.get_threshold()[0])  # the other run ended meanwhile: still raised

    t = threading.Thread(target=first)
    t.start()
    assert first_in.wait(10)
    with fewer_collections():
        assert gc.get_threshold()[0] == RUN_THRESHOLD
    second_done.set()
    t.join()
    assert seen == [RUN_THRESHOLD]
    assert gc.get_threshold() == (700, 10, 10)


def test_a_threshold_set_by_the_program_is_respected() -> None:
    gc.set_threshold(50_000, 5, 5)  # already higher: left alone
    with fewer_collections():
        assert gc.get_threshold() == (50_000, 5, 5)
    assert gc.get_threshold() == (50_000, 5, 5)
    gc.set_threshold(0, 10, 10)  # collections switched off by threshold: left alone
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
    gc.set_threshold(700, 10, 10)
    with fewer_collections():
        gc.set_threshold(1000, 10, 10)  # changed during the run: not undone at its end
    assert gc.get_threshold() == (1000, 10, 10)


def test_garbage_cycles_made_by_tasks_are_still_collected(tmp_path: Path) -> None:
    import weakref

    class Node:
        def __init__(self) -> None:
            self.me = self

    @env.task
    def cycles(n: int) -> int:
        refs = [weakref.ref(Node()) for _ in range(n)]
        return sum(r() is None for r in refs)  # collected while the run goes on

    s = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"))
    try:
        assert s.run(cycles, n=3 * RUN_THRESHOLD).outputs()[0] > RUN_THRESHOLD
    finally:
        s.close()
