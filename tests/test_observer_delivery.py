"""How a run's recorder tells its observers: every phase change, or (``latest_only``) each action's
latest state once per batch it writes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import flyte
from flyte_core.run.events import ActionEvent, RunEvent
from flyte_core.run.session import RunOptions, Session

env = flyte.TaskEnvironment(name="observed")


@env.task
def inc(x: int) -> int:
    return x + 1


@env.task
def chain(n: int) -> int:
    total = 0
    for i in range(n):
        total += inc(i)
    return total


class Seen:
    """An observer keeping (action, phase) of every action event and the run's phases, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.closed = False

    def on_run(self, event: RunEvent) -> None:
        self.events.append(("run", event.phase.value))

    def on_action(self, event: ActionEvent) -> None:
        assert event.phase is event.action.phase  # the record is the state the event announces
        self.events.append((event.action.action, event.phase.value))

    def on_log(self, action: str, stream: str, text: str) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class Latest(Seen):
    """The same, told only each action's latest state per batch."""

    latest_only = True


@pytest.fixture()
def session(tmp_path: Path) -> Any:
    s = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"))
    yield s
    s.close()


def test_an_ordinary_observer_sees_every_phase_change_of_every_action(session: Session) -> None:
    seen = Seen()
    session.run_with(RunOptions(observers=(seen,)), chain, (), {"n": 50})
    for i in range(1, 51):  # a root's children are numbered from 1
        assert [p for a, p in seen.events if a == f"a0.{i}"] == ["queued", "running", "succeeded"]
    assert seen.events[-1] == ("run", "succeeded") and seen.closed


def test_a_latest_only_observer_sees_each_action_end_once_and_in_order(session: Session) -> None:
    every, latest = Seen(), Latest()
    session.run_with(RunOptions(observers=(every, latest)), chain, (), {"n": 2000})
    children = [(a, p) for a, p in latest.events if a.startswith("a0.")]
    # An action finished within one batch is one event, its last; one whose changes span batches
    # is told its state at the end of each. Either way it ends succeeded, and is told no phase twice.
    ended = [a for a, p in children if p == "succeeded"]
    assert ended == [f"a0.{i}" for i in range(1, 2001)]  # each once, in the order they were called
    for i in range(1, 2001, 97):
        phases = [p for a, p in children if a == f"a0.{i}"]
        assert phases[-1] == "succeeded" and len(phases) == len(set(phases)) <= 3
    # Far fewer events than changes: the writer gathers a chain's calls in batches.
    assert len(children) < 0.6 * len([e for e in every.events if e[0].startswith("a0.")])
    # The root's end comes before the run's, as for an observer that sees every change.
    assert latest.events[-2:] == [("a0", "succeeded"), ("run", "succeeded")]
    assert latest.events[0] == ("run", "running") and latest.closed


def test_a_latest_only_observer_gets_the_final_state_of_a_failed_action(session: Session) -> None:
    @env.task
    def boom(x: int) -> int:
        raise ValueError(f"no {x}")

    @env.task
    def calls_boom() -> int:
        try:
            return boom(1)
        except Exception:
            return -1

    latest = Latest()
    run = session.run_with(RunOptions(observers=(latest,)), calls_boom, (), {})
    assert run.outputs() == (-1,)
    assert [p for a, p in latest.events if a == "a0.1"][-1] == "failed"


def test_observers_are_told_on_the_writer_thread_after_the_change_is_stored(session: Session) -> None:
    threads: set[str] = set()
    stored: list[bool] = []

    class Checking(Latest):
        def on_action(self, event: ActionEvent) -> None:
            threads.add(threading.current_thread().name)
            stored.append(session.runs.get_action(event.run, event.action.action) is not None)

    session.run_with(RunOptions(observers=(Checking(),)), chain, (), {"n": 20})
    assert len(threads) == 1 and next(iter(threads)).startswith("flyte-recorder-")
    assert stored and all(stored)


@env.task
def outer(x: int) -> int:
    return inc(x) + inc(x + 1)


@env.task
def nested(n: int) -> int:
    return sum(outer(i) for i in range(n))


@env.task
async def fan(n: int) -> int:
    import asyncio

    return sum(await asyncio.gather(*[inc.aio(i) for i in range(n)]))


def test_a_latest_only_observer_hears_of_a_parents_end_after_its_childrens(session: Session) -> None:
    latest = Latest()
    session.run_with(RunOptions(observers=(latest,)), nested, (), {"n": 30})
    ends = [a for a, p in latest.events if p == "succeeded"]
    for i in range(1, 31):
        parent = f"a0.{i}"
        assert ends.index(f"{parent}.1") < ends.index(f"{parent}.2") < ends.index(parent)
    assert ends[-2:] == ["a0", "run"]


def test_a_latest_only_observer_first_hears_of_a_fan_outs_children_in_call_order(session: Session) -> None:
    latest = Latest()
    session.run_with(RunOptions(observers=(latest,)), fan, (), {"n": 300})
    first: dict[str, int] = {}
    for i, (a, _) in enumerate(latest.events):
        first.setdefault(a, i)
    children = sorted((a for a in first if a.startswith("a0.")), key=first.__getitem__)
    assert children == [f"a0.{i}" for i in range(1, 301)]
