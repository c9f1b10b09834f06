"""What ``flyte run``'s progress display costs a run: the CPU per action of a chain of trivial sync
calls with the progress observer attached (its plain-lines form, as in a CI log), against the same
run with no observer, measured in the same process (the baseline)."""

from __future__ import annotations

import io
import tempfile
import time
from typing import Any

from flyte_progress.observer import LiveTreeObserver
from rich.console import Console
from workloads import chain  # the same chain bench/issue17.py times

from flyte_core.run.session import RunOptions, Session

N = 20_000


def cpu_of(fn: Any, repeat: int = 5) -> float:
    """The least CPU time (every thread of the process) of ``repeat`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


def main() -> dict[str, float]:
    """Run the benchmark and return its figures (µs of CPU per action)."""
    with tempfile.TemporaryDirectory() as tmp:
        s = Session(data_url=f"{tmp}/data", run_store=f"{tmp}/runs.db")
        try:
            s.run(chain, n=100)  # warm up

            def observed() -> None:
                obs = LiveTreeObserver(Console(file=io.StringIO()), live=False)
                s.run_with(RunOptions(observers=(obs,)), chain, (), {"n": N})
                obs.close()

            bare = cpu_of(lambda: s.run(chain, n=N))
            shown = cpu_of(observed)
        finally:
            s.close()
    return {"bare_us": bare / N * 1e6, "progress_us": shown / N * 1e6, "over_us": (shown - bare) / N * 1e6}


def report(r: dict[str, float]) -> None:
    """Print the figures."""
    print(f"chain of {N} sync calls, CPU per action: {r['bare_us']:.1f} us with no observer, "
          f"{r['progress_us']:.1f} us with the progress lines (+{r['over_us']:.1f} us, "
          f"x{r['progress_us'] / r['bare_us']:.2f})")


if __name__ == "__main__":
    report(main())
