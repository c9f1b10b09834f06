"""The cost of a cache hit: a driver calling a cached task N times with inputs already cached,
per action (with full tracking), against a plain dictionary lookup of the same results, and the
lookup alone (key computation + run-store index read) against the dictionary lookup."""

from __future__ import annotations

import tempfile
import time
from typing import Any

import flyte
from flyte_core.run.cache import Cache, cache_key
from flyte_core.run.session import Session

N = 1000
env = flyte.TaskEnvironment(name="bench_cache", cache="auto")


@env.task
def cached(x: int) -> int:
    return x + 1


@env.task(cache="disable")
def driver(n: int) -> int:
    total = 0
    for i in range(n):
        total += cached(i)
    return total


@env.task(cache="disable")
def uncached_driver(n: int) -> int:
    total = 0
    for i in range(n):
        total += cached.override(cache="disable")(i)
    return total


def best_of(fn: Any, repeat: int = 3) -> float:
    """The fastest of ``repeat`` timings."""
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
        s.run(driver, n=N)  # fills the cache
        hits = best_of(lambda: s.run(driver, n=N))
        misses = best_of(lambda: s.run(uncached_driver, n=N))
        store = Cache(s.runs, s.data)
        inputs = [{"x": {"t": "int", "v": 1, "d": i}} for i in range(N)]
        lookup = best_of(lambda: [store.get(cached.name, cache_key(cached, x)[0]) for x in inputs])
        s.close()
    table = {i: i + 1 for i in range(N)}
    plain = best_of(lambda: [table[i] for i in range(N)], repeat=20)
    return {
        "hit_us_per_action": hits / N * 1e6,
        "uncached_us_per_action": misses / N * 1e6,
        "lookup_us": lookup / N * 1e6,
        "dict_us": plain / N * 1e6,
        "lookup_vs_dict": lookup / plain,
    }


def report(r: dict[str, float]) -> None:
    """Print the figures."""
    print(f"cached action (hit, full tracking): {r['hit_us_per_action']:.1f} us vs running it uncached "
          f"{r['uncached_us_per_action']:.1f} us")
    print(f"cache lookup alone (key + index read): {r['lookup_us']:.1f} us vs dict lookup {r['dict_us']:.3f} us "
          f"(x{r['lookup_vs_dict']:.0f})")


if __name__ == "__main__":
    report(main())
