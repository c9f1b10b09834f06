"""Reading a large run store: ``flyte runs list`` and ``flyte runs show`` on a store holding one run of
``FLYTE_BENCH_STORE_ACTIONS`` actions (default 1,000,000: a chain of sync calls, recorded by the real
run path) and 30 small runs.

Each command runs in a fresh interpreter against that store, ``FLYTE_BENCH_REPEAT`` times (default 3;
the median is kept), interleaved with ``python -c pass`` (the baseline). What is measured: the run
list (newest 20), the first page of the large run's action tree (``runs show``'s default 1,000
actions), its last page (``--offset``: the index is walked, nothing else is loaded) and a page of 20.

``python bench/runstore.py`` (or within ``nox -s bench``; ``nox -s bench -- runstore`` alone).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACTIONS = int(os.environ.get("FLYTE_BENCH_STORE_ACTIONS", "1000000"))
REPEAT = int(os.environ.get("FLYTE_BENCH_REPEAT", "3"))
SMALL_RUNS = 30

TASKS = '''
import flyte

env = flyte.TaskEnvironment(name="bench_store")


@env.task
def inc(x: int) -> int:
    return x + 1


@env.task
def chain(n: int) -> int:
    total = 0
    for i in range(n):
        total += inc(i)
    return total
'''

FILL = '''
import sys
import flyte
import bench_store_tasks as t

flyte.init()
big = flyte.run(t.chain, n=int(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    flyte.run(t.chain, n=3)
print(big.name)
'''


def _env(home: str) -> dict[str, str]:
    env = {**os.environ, "FLYTE_HOME": home}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: with bytecode (the first run writes it)
    env["FLYTE_BLOCK_PLUGINS"] = ",".join(filter(None, [env.get("FLYTE_BLOCK_PLUGINS", ""), "example"]))
    return env


def build_store(home: str, actions: int) -> tuple[str, float]:
    """Fill ``home``'s run store: one run of ``actions`` actions, then the small runs; the big run's
    name and the seconds the filling took."""
    Path(home, "bench_store_tasks.py").write_text(TASKS)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", FILL, str(actions), str(SMALL_RUNS)], cwd=home, env=_env(home),
                         capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"filling the run store failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()[-1], time.perf_counter() - t0


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(argv: list[str], home: str) -> tuple[float, float, str]:
    """Wall and CPU seconds of one command, and what it printed on stderr (the page line)."""
    t0, c0 = time.perf_counter(), _children_cpu()
    out = subprocess.run(argv, cwd=home, env=_env(home), capture_output=True, text=True, timeout=600)
    seconds, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{out.stdout[-2000:]}{out.stderr[-3000:]}")
    return seconds, cpu, out.stderr.strip()


def main() -> dict[str, object]:
    """Build the store, then time each command; medians of wall and CPU seconds per command."""
    flyte = str(Path(sys.executable).parent / "flyte")
    with tempfile.TemporaryDirectory(prefix="flyte-bench-store-") as home:
        run, fill_s = build_store(home, ACTIONS)
        db = Path(home, "runs.db")
        commands = {
            "python -c pass (baseline)": [sys.executable, "-c", "pass"],
            "flyte runs list": [flyte, "runs", "list"],
            "flyte runs show RUN (first 1,000 actions)": [flyte, "runs", "show", run],
            "flyte runs show RUN --limit 20": [flyte, "runs", "show", run, "--limit", "20"],
            "flyte runs show RUN --offset (last page)": [flyte, "runs", "show", run, "--offset",
                                                         str(max(0, ACTIONS + 1 - 1000))],
        }
        for argv in commands.values():  # warm: bytecode, the entry-point cache, the page cache
            timed(argv, home)
        wall: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        pages: dict[str, str] = {}
        for _ in range(REPEAT):
            for label, argv in commands.items():
                w, c, err = timed(argv, home)
                wall.setdefault(label, []).append(w)
                cpu.setdefault(label, []).append(c)
                pages[label] = err
        return {
            "actions": ACTIONS, "fill_s": fill_s, "store_mb": db.stat().st_size / 2**20,
            "commands": {label: {"wall_s": statistics.median(wall[label]), "cpu_s": statistics.median(cpu[label]),
                                 "stderr": pages[label]} for label in commands},
        }


def report(r: dict[str, object]) -> None:
    """Print the table (markdown)."""
    print(f"run store: one run of {r['actions']:,} actions + {SMALL_RUNS} small runs, {r['store_mb']:.0f} MB, "
          f"filled in {r['fill_s']:.1f} s")
    print(f"| command (median of {REPEAT}) | wall s | CPU s | CPU over python -c pass |")
    print("|---|---|---|---|")
    cmds: dict[str, dict[str, float]] = r["commands"]  # type: ignore[assignment]
    base = cmds["python -c pass (baseline)"]["cpu_s"]
    for label, f in cmds.items():
        print(f"| {label} | {f['wall_s']:.3f} | {f['cpu_s']:.3f} | {f['cpu_s'] - base:+.3f} |")


if __name__ == "__main__":
    result = main()
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
    else:
        report(result)
