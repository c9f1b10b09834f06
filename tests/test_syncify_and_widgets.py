"""flyte.syncify (async code called from sync code on one background loop) and the report widgets."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import flyte
import flyte.report
from flyte.syncify import Syncify, syncify
from tests import surface_tasks as t

_sync = Syncify("surface_test")


@_sync
async def loop_thread_name(x: int) -> tuple[int, str]:
    await asyncio.sleep(0)
    return x * 2, threading.current_thread().name


@_sync
async def countdown(n: int) -> AsyncIterator[int]:
    for i in range(n, 0, -1):
        yield i


class Client:
    def __init__(self, base: int) -> None:
        self.base = base

    @_sync
    async def add(self, x: int) -> int:
        return self.base + x

    @_sync
    @classmethod
    async def make(cls, base: int) -> int:
        return base

    @_sync
    @staticmethod
    async def twice(x: int) -> int:
        return 2 * x


def test_sync_and_async_calls_run_on_the_same_background_loop() -> None:
    assert loop_thread_name(3) == (6, "surface_test")

    async def main() -> tuple[int, str]:
        return await loop_thread_name.aio(4)  # type: ignore[no-any-return]

    assert asyncio.run(main()) == (8, "surface_test")


def test_async_generators_become_iterators() -> None:
    assert list(countdown(3)) == [3, 2, 1]

    async def main() -> list[int]:
        return [i async for i in countdown.aio(2)]

    assert asyncio.run(main()) == [2, 1]


def test_methods_classmethods_and_staticmethods() -> None:
    assert Client(10).add(5) == 15
    assert Client.make(7) == 7
    assert Client.twice(4) == 8


def test_the_default_instance_and_its_errors() -> None:
    @syncify
    async def boom() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError, match="inside"):
        boom()
    with pytest.raises(TypeError, match="functions and methods"):
        syncify(42)


def test_abbreviate_and_duration_ms() -> None:
    assert flyte.report.abbreviate("<b>") == "&lt;b&gt;"
    long = flyte.report.abbreviate("x" * 500, limit=10)
    assert long.startswith("<details") and "(+490)" in long and "x" * 500 in long
    assert flyte.report.duration_ms("2024-01-01T00:00:00Z", "2024-01-01T00:00:00.250Z") == "250 ms"
    assert flyte.report.duration_ms(None, "2024-01-01T00:00:00") == ""
    assert flyte.report.duration_ms("yesterday", "today") == ""


def test_a_timeline_writes_rows_to_its_tab_of_the_report(tmp_path: Path) -> None:
    flyte.init()
    run = flyte.run(t.timeline_report, n=2)
    session = flyte.current_session()
    report = Path(session.data.url("runs", run.name, "a0", "report.html")).read_text()
    assert "steps" in report and "<h3" in report and "Steps" in report
    assert report.count("flyte-timeline-row") == 2 and "step 1" in report and "1500 ms" in report
    assert "boom" in report


def test_a_timeline_outside_a_task_does_nothing_visible() -> None:
    flyte.report.Timeline().row(label="nothing to see")  # a throwaway report: no error, nothing written
