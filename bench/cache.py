"""The cost of a cache hit: a driver calling a cached task N times with inputs already cached,
per action (with full tracking, in a run of its own), against the lookup alone as a run makes it
(the key computed from the input literals, then the in-memory index a run keeps in front of the
store, loaded on the task's first lookup and decoding each entry on its first hit) and against a
plain dictionary lookup of the same results. What issue 17 asks of a hit is the difference: the
hit at most 5 us over its lookup. The hit is given twice: as its run's time per action (the run's
start, the writer's last batch and its commit included) and as the call's time in the calling task."""

from __future__ import annotations

import tempfile
import time
from typing import Any

import flyte
from flyte_core.run.cache import Cache
from flyte_core.run.memo import Claim, Reuse
from flyte_core.run.session import Session

N = 1000
env = flyte.TaskEnvironment(name="bench_cache", cache="auto")


@env.task
def cached(x: int) -> int:
    return x + 1


@env.task(cache="disable")
def driver(n: int) -> float:
    """Calls ``cached`` n times; returns the seconds the calls took, as the caller sees them."""
    start = time.perf_counter()
    for i in range(n):
        cached(i)
    return time.perf_counter() - start


#: The same task with caching off (made once: an override per call would be measured too).
uncached = cached.override(cache="disable")


@env.task(cache="disable")
def uncached_driver(n: int) -> int:
    total = 0
    for i in range(n):
        total += uncached(i)
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
        calls: list[float] = []
        hits = best_of(lambda: calls.append(s.run(driver, n=N).outputs()[0]))
        misses = best_of(lambda: s.run(uncached_driver, n=N))
        inputs = [s.engine.encode_inputs(cached.name, cached.interface, {"x": i}, s.conversion("bench"))
                  for i in range(N)]

        def lookups() -> None:  # as a new run does: a fresh index, every key looked up for the first time
            reuse = Reuse(Cache(s.runs, s.data), None, [])
            for x in inputs:
                if isinstance(reuse.claim_or_outputs(cached, x), Claim):
                    raise AssertionError("a lookup missed: the bench must only measure hits")

        lookup = best_of(lookups)
        s.close()
    table = {i: i + 1 for i in range(N)}
    plain = best_of(lambda: [table[i] for i in range(N)], repeat=20)
    return {
        "hit_us_per_action": hits / N * 1e6,
        "hit_call_us": min(calls) / N * 1e6,
        "uncached_us_per_action": misses / N * 1e6,
        "lookup_us": lookup / N * 1e6,
        "hit_over_lookup_us": (hits - lookup) / N * 1e6,
        "hit_call_over_lookup_us": (min(calls) - lookup) / N * 1e6,
        "dict_us": plain / N * 1e6,
        "lookup_vs_dict": lookup / plain,
    }


def report(r: dict[str, float]) -> None:
    """Print the figures."""
    print(f"cached action (hit, full tracking): {r['hit_us_per_action']:.1f} us vs running it uncached "
          f"{r['uncached_us_per_action']:.1f} us")
    print(f"cache lookup alone (key + in-memory index, first lookup of each key in a run): {r['lookup_us']:.1f} us "
          f"vs dict lookup {r['dict_us']:.3f} us (x{r['lookup_vs_dict']:.0f})")
    print(f"a hit as its caller sees it (the call's time in the calling task): {r['hit_call_us']:.1f} us")
    print(f"over the lookup: the hit {r['hit_over_lookup_us']:.1f} us (its run per action, the writer's flush "
          f"included), the call {r['hit_call_over_lookup_us']:.1f} us")


if __name__ == "__main__":
    report(main())
