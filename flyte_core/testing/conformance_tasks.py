"""Tasks of flyte-core's backend conformance suite (flyte_core.testing.backends)."""

import asyncio
import datetime
import enum
import sys
import time
from typing import Optional

# A task kind the session's own plugin (written next to this file, never installed) runs.
from conformance_kinds import Bracket

import flyte
import flyte.durable
import flyte.errors

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
def context_echo(tag: str) -> dict[str, str]:
    return {"tag": tag, **flyte.get_custom_context()}


@env.task
async def async_context_echo(tag: str) -> dict[str, str]:
    return {"tag": tag, **flyte.ctx().custom_context}


@env.task
def relays_context() -> dict[str, str]:
    return context_echo("relayed")


@env.task
async def custom_contexts() -> list[dict[str, str]]:
    seen = []
    with flyte.custom_context(team="core", stage="one"):
        seen.append(await async_context_echo("outer"))
        with flyte.custom_context(stage="two", extra="yes"):
            seen.append(await context_echo.aio("inner"))
            seen.append(await relays_context.aio())
        seen.append(await async_context_echo("outer-again"))
    seen.append(await async_context_echo("after"))
    return seen


@env.task
def catches_by_type(x: int) -> str:
    try:
        fails(x)
    except ValueError as e:
        return "|".join([type(e).__name__, str(isinstance(e, flyte.errors.RuntimeUserError)), str(e)])
    return "not caught"


@env.task
def resumes() -> list[str]:
    """Saves a checkpoint and fails the first time; later attempts and recovering runs resume."""
    now = flyte.durable.time()
    cp = flyte.ctx().checkpoint
    restored = cp.load_sync()
    if restored is None:
        cp.save_sync(repr(now).encode())
        raise RuntimeError("stopping after the first checkpoint")
    return [restored.read_text(), repr(now), str(flyte.ctx().attempt)]


@env.task(retries=1)
async def resumes_on_retry() -> list[str]:
    now = await flyte.durable.time.aio()
    cp = flyte.ctx().checkpoint
    restored = await cp.load()
    if restored is None:
        folder = cp.path / "state"
        folder.mkdir()
        (folder / "step.txt").write_text(repr(now))
        await cp.save(folder)
        raise RuntimeError("stopping after the first checkpoint")
    return [(restored / "step.txt").read_text(), repr(now), str(flyte.ctx().attempt)]


@env.task
def ctx_fields() -> dict[str, str]:
    c = flyte.ctx()
    start = c.run_start_time
    return {"attempt_number": str(c.attempt_number), "version": c.version, "output_path": c.output_path,
            "run_start_time": start.isoformat() if start is not None else "", "in_cluster": str(c.is_in_cluster()),
            "checkpoint": c.checkpoint_paths.checkpoint_path or ""}

# --- task.override(...) ----------------------------------------------------------------------------


@env.task
def read_env(name: str) -> str:
    import os

    return os.environ.get(name, "")


@env.task
def memory_limit() -> str:
    """The cgroup memory limit this task runs under ("max" or bytes; "" without cgroups)."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            continue
    return ""


@env.task
def overrides_inside() -> list[str]:
    """Overridden tasks called from a task body (another process on most backends)."""
    return [
        read_env.override(env_vars={"CONFORMANCE_OVERRIDE": "inner"})("CONFORMANCE_OVERRIDE"),
        read_env.override(secrets=[flyte.Secret(key="conformance-token")])("CONFORMANCE_TOKEN"),
        sleeps.override(timeout=60)(3.0),
    ]


@env.task
def retries_overridden_inside() -> int:
    return flaky.override(retries=0)()


@env.task
def cache_overridden_inside() -> list[str]:
    cached = read_env.override(cache="auto")
    return [cached("CONFORMANCE_NOTHING"), cached("CONFORMANCE_NOTHING")]


@env.task
def memory_overridden_inside() -> str:
    return memory_limit.override(resources=flyte.Resources(memory="300Mi"))()


@env.task
def reports_group(x: int) -> str:
    return f"{flyte.ctx().group_data}:{middle(x)}"


@env.task
def grouped_caller(x: int) -> str:
    with flyte.group("tail"):
        return reports_group(x)


bracketed_env = flyte.TaskEnvironment(name="conformance-bracketed", plugin_config=Bracket("~"))


@bracketed_env.task
def bracketed(word: str) -> str:
    return word.upper()


@env.task
def calls_bracketed(word: str) -> str:
    return "got " + bracketed(word)
