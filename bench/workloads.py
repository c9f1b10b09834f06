"""One workload of issue 17, run in a fresh interpreter and reported as one JSON line.

``python bench/workloads.py WORKLOAD N [--plain]`` runs WORKLOAD (chain, fan, map, cache, miss) over N
actions through ``flyte.run`` in local mode, with whatever ``flyte`` this interpreter imports:
flyte-core in the project's environment, Flyte 2 in the benchmark's Flyte 2 virtualenv. The same
file serves both, so both run exactly the same task code. ``--plain`` runs the same functions as a
plain-Python loop (the baseline). It prints ``{"seconds": ..., "cpu_seconds": ..., "peak_rss_mb": ...}``:
the wall and CPU time (all threads) of the measured run (after a small warm-up run, so imports and
start-up are not counted) and the process's peak resident memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import tempfile
import time

import flyte

env = flyte.TaskEnvironment(name="bench17")


@env.task
def inc(x: int) -> int:
    return x + 1


@env.task
async def ainc(x: int) -> int:
    return x + 1


@env.task(cache="auto")
def cached_inc(x: int) -> int:
    return x + 1


@env.task
def chain(n: int) -> int:
    total = 0
    for i in range(n):
        total += inc(i)
    return total


@env.task
async def fan(n: int) -> int:
    return sum(await asyncio.gather(*[ainc(i) for i in range(n)]))


@env.task
def map_inc(n: int) -> int:
    return sum(flyte.map(inc, range(n)))


@env.task
def cache_hits(n: int) -> int:
    total = 0
    for i in range(n):
        total += cached_inc(i)
    return total


@env.task
def cache_misses(n: int) -> int:
    # Keys no earlier run of this size made: every call misses, runs and stores its outputs.
    total = 0
    for i in range(n):
        total += cached_inc(n * 1_000_003 + i)
    return total


TASKS = {"chain": chain, "fan": fan, "map": map_inc, "cache": cache_hits, "miss": cache_misses}


def plain(workload: str, n: int) -> None:
    """The baseline: the same functions called in a plain loop (no orchestration)."""
    f, af = inc.func, ainc.func
    if workload in ("chain", "map", "cache", "miss"):
        total = 0
        for i in range(n):
            total += f(i)
    else:
        async def gather() -> int:
            return sum(await asyncio.gather(*[af(i) for i in range(n)]))
        asyncio.run(gather())


def main() -> None:
    """Run the workload named on the command line and print its figures."""
    workload, n = sys.argv[1], int(sys.argv[2])
    if "--plain" in sys.argv:
        t0, c0 = time.perf_counter(), time.process_time()
        plain(workload, n)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    else:
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)  # Flyte 2 local mode writes next to the working directory
            os.environ["FLYTE_HOME"] = tmp  # never the user's ~/.flyte
            flyte.init()
            task = TASKS[workload]
            # Warm-up: imports, plugin manager, first-use caches; for the cache workload it fills the
            # cache, so every call of the measured run is a hit.
            flyte.run(task, n=n if workload == "cache" else min(n, 10))
            t0, c0 = time.perf_counter(), time.process_time()
            flyte.run(task, n=n)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak_rss_kb() / 1024}))


def peak_rss_kb() -> int:
    """This process's peak resident memory. Linux's ``ru_maxrss`` keeps the high-water mark of the
    process image before ``exec`` (the forked parent's size), so /proc's VmHWM is read instead."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
