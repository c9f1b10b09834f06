"""Tasks of flyte-core's backend conformance suite (flyte_core.testing.backends)."""

import asyncio
import datetime
import enum
import sys
import time
from typing import Optional

import flyte

env = flyte.TaskEnvironment(name="conformance")


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@env.task
def greet(name: str) -> str:
    return f"Hello, {name}!"


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
def innermost(x: int) -> int:
    return x + 1


@env.task
def middle(x: int) -> int:
    return innermost(x) * 10


@env.task
def outer(x: int) -> int:
    return middle(x) + 1


@env.task
async def square(x: int) -> int:
    await asyncio.sleep(0.3)
    return x * x


@env.task
async def fan_out(n: int) -> list[int]:
    return list(await asyncio.gather(*[square(i) for i in range(n)]))


@env.task
def slow_double(x: int) -> int:
    time.sleep(0.1 * (4 - x))  # later items finish first; results still come back in order
    return 2 * x


@env.task
def mapped(n: int) -> list[int]:
    return list(flyte.map(slow_double, range(n)))


@env.task
def grouped(n: int) -> int:
    total = 0
    with flyte.group("stage-1"):
        for i in range(n):
            total += step_one(i)
    return total + step_two(0)


@env.task
def echo_types(
    numbers: list[int],
    table: dict[str, list[float]],
    pair: tuple[int, str],
    maybe: Optional[str],
    nothing: Optional[int],
    blob: bytes,
    when: datetime.datetime,
    color: Color,
) -> tuple[list[int], dict[str, list[float]], tuple[int, str], Optional[str], Optional[int], bytes,
           datetime.datetime, Color]:
    expected = [list, dict, tuple, str, type(None), bytes, datetime.datetime, Color]
    got = [numbers, table, pair, maybe, nothing, blob, when, color]
    for kind, value in zip(expected, got):
        if not isinstance(value, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}: {value!r}")
    return numbers, table, pair, maybe, nothing, blob, when, color


@env.task
def fails(x: int) -> int:
    raise ValueError(f"bad value {x}")


@env.task
def calls_fails(x: int) -> int:
    return fails(x) + 1


@env.task(retries=1)
def flaky() -> int:
    attempt = flyte.ctx().attempt
    if attempt == 1:
        raise RuntimeError(f"attempt {attempt} fails")
    return attempt


@env.task(timeout=2)
def sleeps(seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.1)
    return "woke"


@env.task(timeout=2)
async def async_sleeps(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "woke"


@env.task
def chatty(x: int) -> int:
    print(f"out {x}")
    print(f"err {x}", file=sys.stderr)
    return x


@env.task
def calls_chatty(x: int) -> int:
    print("parent speaks")
    return chatty(x)


@env.task
def whoami() -> dict[str, str]:
    ctx = flyte.ctx()
    return {"action": ctx.action.name, "run": ctx.action.run_name, "attempt": str(ctx.attempt)}


@env.task
async def calls_whoami() -> dict[str, str]:
    return await whoami.aio()


@env.task
def reports_group(x: int) -> str:
    return f"{flyte.ctx().group_data}:{middle(x)}"


@env.task
def grouped_caller(x: int) -> str:
    with flyte.group("tail"):
        return reports_group(x)
