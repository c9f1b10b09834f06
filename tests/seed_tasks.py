"""Tasks used by the tests: the seed's examples plus the Flyte 2 features the core must support."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import flyte

env = flyte.TaskEnvironment(name="my_env")


@env.task
def greet(name: str) -> str:
    return f"Hello, {name}!"


@env.task
def process_numbers(values: list[int]) -> int:
    return sum(values)


@env.task
def step_one(x: int) -> int:
    return x * 2


@env.task
def step_two(x: int) -> int:
    return x + 10


@env.task
def pipeline(x: int) -> int:
    a = step_one(x)
    b = step_two(a)
    return b


@env.task
async def square(x: int) -> int:
    await asyncio.sleep(0.01)
    return x * x


@env.task
async def fan_out(n: int) -> list[int]:
    return list(await asyncio.gather(*[square(i) for i in range(n)]))


@env.task
async def depth(n: int) -> int:
    if n == 0:
        return 0
    return 1 + await depth(n - 1)


@env.task
def sync_depth(n: int) -> int:
    return 0 if n == 0 else 1 + sync_depth(n - 1)


@env.task
def slow_thread_name(x: int) -> str:
    time.sleep(0.2)
    return threading.current_thread().name


@env.task
def parallel_map(n: int) -> list[str]:
    return list(flyte.map(slow_thread_name, range(n)))


@env.task
async def async_calls_sync(x: int) -> int:
    return await step_one.aio(x)


@env.task
async def async_calls_sync_wrongly(x: int) -> int:
    return step_one(x)


@env.task
def boom(x: int) -> int:
    raise ValueError(f"boom {x}")


@env.task
def calls_boom(x: int) -> int:
    return boom(x) + 1


@env.task(retries=2)
def flaky(path: str) -> int:
    n = int(Path(path).read_text()) if os.path.exists(path) else 0
    with open(path, "w") as f:
        f.write(str(n + 1))
    if n < 2:
        raise RuntimeError(f"attempt {n + 1} fails")
    return n + 1


@env.task(timeout=1)
def sleepy(seconds: float) -> str:
    end = time.time() + seconds
    while time.time() < end:
        time.sleep(0.01)
    return "woke"


@env.task(timeout=1)
async def async_sleepy(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "woke"


@env.task
def maybe_fail(x: int) -> int:
    if x % 3 == 0:
        raise ValueError(f"no {x}")
    return x


@env.task
def map_with_errors(n: int) -> list[str]:
    return [repr(r) if isinstance(r, Exception) else str(r) for r in flyte.map(maybe_fail, range(n))]


@env.task
async def map_aio(n: int, limit: int) -> list[int]:
    out = []
    async for r in flyte.map.aio(square, range(n), concurrency=limit, return_exceptions=False):
        out.append(r)
    return out


@env.task
def grouped(n: int) -> int:
    total = 0
    with flyte.group("stage-1"):
        for i in range(n):
            total += step_one(i)
    return total


@flyte.trace
def helper(x: int) -> int:
    return x + 1


@env.task
def traced(x: int) -> int:
    return helper(x)


@env.task
def context_info(x: int) -> dict[str, str]:
    c = flyte.ctx()
    assert c is not None
    flyte.logger.info("context for %s", c.action.name)
    print("printed by", c.action.name)
    return {"action": c.action.name, "run": c.action.run_name, "attempt": str(c.attempt),
            "custom": flyte.get_custom_context().get("team", "")}


@env.task
def nested_info(x: int) -> dict[str, str]:
    return context_info(x)


@env.task
def echo(a: int, b: float, c: str, d: bool, e: bytes, f: list[int], g: dict[str, float],
         h: tuple[int, str], i: int | None = None, j: list[dict[str, list[int]]] | None = None) -> tuple:
    return (a, b, c, d, e, f, g, h, i, j)
