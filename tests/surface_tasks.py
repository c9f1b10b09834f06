"""Tasks used by the tests of the Flyte 2 surface (errors, cache policies, storage, reports, concurrency)."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import flyte
import flyte.report
import flyte.storage

env = flyte.TaskEnvironment(name="surface")


@env.task(retries=3, timeout=flyte.Timeout(deadline=timedelta(microseconds=1)))
def always_fails(x: int) -> int:
    raise ValueError(f"no {x}")


@env.task(timeout=1)
async def too_slow() -> int:
    await asyncio.sleep(30)
    return 1


class CountingPolicy:
    """A cache policy whose version is whatever ``VERSION`` holds (so a test can change it)."""

    VERSION = "one"
    calls = 0

    def get_version(self, salt: str, params: object) -> str:
        CountingPolicy.calls += 1
        return f"{CountingPolicy.VERSION}:{salt}"


CALLS: list[int] = []


@env.task(cache=flyte.Cache("auto", policies=[CountingPolicy()]))
def cached_square(x: int) -> int:
    CALLS.append(x)
    return x * x


@env.task(report=True)
def timeline_report(n: int) -> int:
    tl = flyte.report.Timeline("steps")
    tl.heading("Steps")
    for i in range(n):
        tl.row(icon="✓", label=f"step {i}", meta=flyte.report.duration_ms("2024-01-01T00:00:00",
                                                                          "2024-01-01T00:00:01.5"),
               error="boom" if i == n - 1 else None)
    return n


@env.task
async def upload_here(text: str) -> str:
    path = await flyte.storage.put_stream(text.encode(), name="greeting.txt")
    assert await flyte.storage.exists(path)
    return path


@env.task
def where_am_i() -> str:
    return f"{flyte.current_project()}/{flyte.current_domain()}"


RUNNING = 0
PEAK = 0
_lock = threading.Lock()


@env.task
async def counted(i: int) -> int:
    global RUNNING, PEAK
    with _lock:
        RUNNING += 1
        PEAK = max(PEAK, RUNNING)
    await asyncio.sleep(0.05)
    with _lock:
        RUNNING -= 1
    return i


@env.task
async def fan_counted(n: int) -> list[int]:
    return list(await asyncio.gather(*(counted.aio(i) for i in range(n))))


@env.task
def add_one(x: int) -> int:
    return x + 1
