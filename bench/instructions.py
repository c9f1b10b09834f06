"""CPU instructions per action, counted by valgrind (callgrind): unlike times, the count does not
move with the machine's load, so two source trees compare exactly.

Each workload of ``bench/workloads.py`` runs under callgrind at 1,000 and at 3,000 actions, in
fresh interpreters; the difference divided by 2,000 is what one more action costs (start-up,
imports and warm-up cancel out). The baseline is the same difference for the plain-Python loop
(``--plain``); a cache hit is the cache workload's count less the miss workload's (its warm-up
run fills the cache it then hits). Skipped when valgrind is not installed. ``FLYTE_BENCH_INSTR_WORKLOADS`` picks the
workloads (default ``chain,cache,miss``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
SIZES = (1000, 3000)


def instructions(workload: str, n: int, plain: bool = False) -> int:
    """Instructions callgrind counts for one run of ``workload`` over ``n`` actions."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "FLYTE_HOME": home, "PYTHONHASHSEED": "0", "FLYTE_BLOCK_PLUGINS": "example"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # count the workload, not compiling the modules
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
             str(HERE / "workloads.py"), workload, str(n), *(["--plain"] if plain else [])],
            env=env, capture_output=True, text=True, timeout=1800)
    found = re.search(r"Collected : ([\d,]+)", out.stderr)
    if out.returncode != 0 or found is None:
        raise RuntimeError(f"{workload} n={n} under callgrind failed:\n{out.stderr[-3000:]}")
    return int(found.group(1).replace(",", ""))


#: Runs per size; the fewest instructions count. Threads that wake on a timer (the run's loop,
#: the caller waiting for the run) add instructions in proportion to the wall time, which under
#: valgrind follows the machine's load.
REPEAT = int(os.environ.get("FLYTE_BENCH_INSTR_REPEAT", "3"))


def per_action(workload: str, plain: bool = False) -> float:
    """Instructions one more action of ``workload`` costs."""
    low, high = (min(instructions(workload, n, plain) for _ in range(REPEAT)) for n in SIZES)
    return (high - low) / (SIZES[1] - SIZES[0])


def main() -> dict[str, dict[str, float]]:
    """Instructions per action of each workload and of its plain-Python loop ({} without valgrind)."""
    if shutil.which("valgrind") is None:
        print("instruction counts skipped: valgrind is not installed", file=sys.stderr)
        return {}
    chosen = os.environ.get("FLYTE_BENCH_INSTR_WORKLOADS", "chain,cache,miss").split(",")
    r = {w: {"core": per_action(w), "plain": per_action(w, plain=True)} for w in chosen}
    if "cache" in r and "miss" in r:  # the cache workload's warm-up run misses for every key it then hits
        r["hit"] = {"core": r["cache"]["core"] - r["miss"]["core"], "plain": r["cache"]["plain"]}
        del r["cache"]
    return r


def report(r: dict[str, dict[str, float]]) -> None:
    """Print one line per workload."""
    for w, f in r.items():
        print(f"{w}: {f['core']:,.0f} instructions per action (plain Python loop {f['plain']:,.0f}, "
              f"x{f['core'] / max(f['plain'], 1):,.0f})")


if __name__ == "__main__":
    report(main())
