"""Per-action overhead of task dispatch on the local backend, with full tracking (run store,
events, log capture), against plain Python calls of the same functions measured in the same run."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from typing import Any

import flyte
from flyte_core.run.session import Session

N = 1000
env = flyte.TaskEnvironment(name="bench")


@env.task
def inc(x: int) -> int:
    return x + 1


@env.task
async def ainc(x: int) -> int:
    return x + 1


@env.task
def sequential(n: int) -> int:
    total = 0
    for i in range(n):
        total += inc(i)
    return total


@env.task
async def concurrent(n: int) -> int:
    return sum(await asyncio.gather(*[ainc(i) for i in range(n)]))


def plain_sequential(n: int) -> int:
    total = 0
    for i in range(n):
        total += inc.func(i)
    return total


async def plain_concurrent(n: int) -> int:
    return sum(await asyncio.gather(*[ainc.func(i) for i in range(n)]))


def best_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    """The fastest of ``repeat`` timings (the least disturbed by a noisy machine)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> dict[str, float]:
    """Run the benchmark and return its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        s = Session(data_url=f"{tmp}/data", run_store=f"{tmp}/runs.db")
        s.run(sequential, n=10)  # warm up imports, plugin manager, caches
        empty = best_of(lambda: s.run(inc, x=1))
        seq = best_of(lambda: s.run(sequential, n=N))
        conc = best_of(lambda: s.run(concurrent, n=N))
        s.close()
    base_seq = best_of(lambda: plain_sequential(N))
    base_conc = best_of(lambda: asyncio.run(plain_concurrent(N)))
    per_seq = (seq - empty) / N
    per_conc = (conc - empty) / N
    return {
        "run_start_ms": empty * 1e3,
        "sequential_us_per_action": per_seq * 1e6,
        "sequential_plain_us_per_call": base_seq / N * 1e6,
        "sequential_ratio": seq / base_seq,
        "concurrent_us_per_action": per_conc * 1e6,
        "concurrent_plain_us_per_call": base_conc / N * 1e6,
        "concurrent_ratio": conc / base_conc,
    }


def report(r: dict[str, float]) -> None:
    """Print the figures."""
    print(f"run start/teardown (one trivial action): {r['run_start_ms']:.1f} ms")
    print(f"sequential: {r['sequential_us_per_action']:.1f} us/action vs plain call "
          f"{r['sequential_plain_us_per_call']:.2f} us (x{r['sequential_ratio']:.0f})")
    print(f"concurrent: {r['concurrent_us_per_action']:.1f} us/action vs plain asyncio "
          f"{r['concurrent_plain_us_per_call']:.2f} us (x{r['concurrent_ratio']:.0f})")


if __name__ == "__main__":
    report(main())
