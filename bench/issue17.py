"""Issue 17's workloads on flyte-core, on Flyte 2 (its own virtualenv) and as plain Python.

Every figure comes from a fresh interpreter (bench/workloads.py, or a CLI command), the three
systems interleaved and each measured ``FLYTE_BENCH_REPEAT`` times (default 3; the median is kept),
so a loaded machine slows them alike: read the ratios, not the absolute numbers.

- ``FLYTE_BENCH_FLYTE2_PYTHON``: the Flyte 2 interpreter (``nox -s bench`` makes one; unset: no
  Flyte 2 column);
- ``FLYTE_BENCH_GROWTH``: sizes of the growth table (default ``1000,10000,100000``; add
  ``1000000`` for the million-action chain);
- ``FLYTE_BENCH_FLYTE2_MAX``: the largest size Flyte 2 runs in the growth table (default 10000);
- ``FLYTE_BENCH_MAP_MAX``: the largest ``flyte.map`` in the growth table (default 100000).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).parent
N = 1000
CORE = sys.executable
FLYTE2 = os.environ.get("FLYTE_BENCH_FLYTE2_PYTHON") or None
REPEAT = int(os.environ.get("FLYTE_BENCH_REPEAT", "3"))
GROWTH = [int(s) for s in os.environ.get("FLYTE_BENCH_GROWTH", "1000,10000,100000").split(",") if s]
FLYTE2_MAX = int(os.environ.get("FLYTE_BENCH_FLYTE2_MAX", "10000"))
MAP_MAX = int(os.environ.get("FLYTE_BENCH_MAP_MAX", "100000"))


def _env(home: str, python: str) -> dict[str, str]:
    env = {**os.environ, "FLYTE_HOME": home, "PYTHONHASHSEED": "0"}
    if python != CORE:  # a PYTHONPATH meant for flyte-core (e.g. an older checkout) is not Flyte 2's
        env.pop("PYTHONPATH", None)
    # An installed package has its bytecode: without it every cold start would time compiling
    # (the first of the repeats writes it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # The bench's environment has every project package, the example plugin too: a test fixture
    # that observes every action (flyte_action_event), which a default install does not have.
    # The workloads measure the default install; a plugin observing actions costs what its hook does.
    if python == CORE:
        env["FLYTE_BLOCK_PLUGINS"] = ",".join(filter(None, [env.get("FLYTE_BLOCK_PLUGINS", ""), "example"]))
    return env


def workload(python: str, name: str, n: int, plain: bool = False) -> dict[str, float]:
    """One run of a workload in a fresh interpreter: its seconds and peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as home:
        args = [python, str(HERE / "workloads.py"), name, str(n)] + (["--plain"] if plain else [])
        out = subprocess.run(args, env=_env(home, python), capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"{name} n={n} on {python} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def command(argv: Sequence[str], python: str) -> tuple[float, float]:
    """Wall and CPU time of one CLI command in a fresh temporary FLYTE_HOME and working directory
    (holding a copy of greet.py)."""
    with tempfile.TemporaryDirectory() as home:
        shutil.copy(HERE / "greet.py", home)
        return command_in(home, argv, python)


def cold_hit(python: str, home: str) -> tuple[float, float]:
    """Wall and CPU time of ``python coldhit.py`` in ``home``, whose first run filled the cache."""
    script = Path(home) / "coldhit.py"
    if not script.exists():
        shutil.copy(HERE / "coldhit.py", script)
        command_in(home, [python, "coldhit.py"], python)
    return command_in(home, [python, "coldhit.py"], python)


def command_in(home: str, argv: Sequence[str], python: str) -> tuple[float, float]:
    """Wall and CPU time of one command run in ``home`` (its FLYTE_HOME and working directory)."""
    t0, c0 = time.perf_counter(), _children_cpu()
    out = subprocess.run(list(argv), env=_env(home, python), cwd=home, capture_output=True, text=True, timeout=600)
    seconds, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{out.stdout[-2000:]}{out.stderr[-3000:]}")
    return seconds, cpu


def _cli(python: str) -> str:
    return str(Path(python).parent / "flyte")


def cold_commands(python: str, flyte2: bool) -> dict[str, list[str]]:
    """The start-up commands timed for one system (Flyte 2 runs tasks locally with ``--local``)."""
    run = [_cli(python), "run"] + (["--local"] if flyte2 else []) + ["greet.py", "greet", "--name", "x"]
    return {
        "flyte run greet.py greet (s)": run,
        "flyte --help (s)": [_cli(python), "--help"],
        "import flyte (s)": [python, "-c", "import flyte"],
    }


def median(xs: list[float]) -> float:
    """The median (the middle of an odd count)."""
    return statistics.median(xs)


Row = tuple[str, float, float | None, float | None, float, float | None]


def main_table() -> list[Row]:
    """Rows (label, flyte-core, Flyte 2, plain Python, then the CPU time of flyte-core and Flyte 2):
    per-action µs for the workloads, seconds for the commands. On a loaded machine the CPU time
    (every thread of the process) is the steadier figure."""
    systems = [("core", CORE, False)] + ([("flyte2", FLYTE2, False)] if FLYTE2 else []) + [("plain", CORE, True)]
    samples: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    labels = {"chain": f"chain, {N} sync->sync calls (us/action)",
              "fan": f"fan, gather of {N} async calls (us/action)",
              "map": f"flyte.map over {N} sync items (us/item)",
              "cache": f"cache hit inside a run, {N} calls (us/action)"}
    hit_label = "cache hit in a new process, over import flyte (s)"
    # One home per system for the new-process hit: its first run fills the cache, the rest hit.
    homes = {sys_name: tempfile.mkdtemp(prefix=f"bench-coldhit-{sys_name}-") for sys_name, _, _ in systems[:-1]}
    try:
        _measure(systems, labels, hit_label, homes, samples, cpu)
    finally:
        for home in homes.values():
            shutil.rmtree(home, ignore_errors=True)
    rows = []
    for label in [*labels.values(), *cold_commands(CORE, False), hit_label]:
        core = median(samples[(label, "core")])
        f2 = median(samples[(label, "flyte2")]) if (label, "flyte2") in samples else None
        plain = median(samples[(label, "plain")]) if (label, "plain") in samples else None
        f2_cpu = median(cpu[(label, "flyte2")]) if (label, "flyte2") in cpu else None
        rows.append((label, core, f2, plain, median(cpu[(label, "core")]), f2_cpu))
    return rows


def _measure(systems: list[tuple[str, str, bool]], labels: dict[str, str], hit_label: str, homes: dict[str, str],
             samples: dict[tuple[str, str], list[float]], cpu: dict[tuple[str, str], list[float]]) -> None:
    """Fill ``samples`` and ``cpu`` with REPEAT rounds of every workload and command, interleaved."""
    for _ in range(REPEAT):
        for w in labels:
            for sys_name, python, plain in systems:
                r = workload(python, w, N, plain)
                samples.setdefault((labels[w], sys_name), []).append(r["seconds"] / N * 1e6)
                cpu.setdefault((labels[w], sys_name), []).append(r.get("cpu_seconds", 0.0) / N * 1e6)
        for sys_name, python, _plain in systems[:-1]:
            for label, argv in cold_commands(python, sys_name == "flyte2").items():
                wall, used = command(argv, python)
                samples.setdefault((label, sys_name), []).append(wall)
                cpu.setdefault((label, sys_name), []).append(used)
            # The hit's time over this round's `import flyte`, taken just before it.
            wall, used = cold_hit(python, homes[sys_name])
            samples.setdefault((hit_label, sys_name), []).append(wall - samples[("import flyte (s)", sys_name)][-1])
            cpu.setdefault((hit_label, sys_name), []).append(used - cpu[("import flyte (s)", sys_name)][-1])


def growth_table() -> list[tuple[str, int, str, float, float, float]]:
    """Rows (workload, n, system, seconds, peak RSS MB, CPU seconds) for map and chain at each size."""
    rows = []
    for w in ("chain", "map"):
        for n in GROWTH:
            if w == "map" and n > MAP_MAX:
                continue  # the million-action figure is the chain's
            rows.append((w, n, "flyte-core", *_pair(workload(CORE, w, n))))
            if FLYTE2 and n <= FLYTE2_MAX:
                rows.append((w, n, "Flyte 2", *_pair(workload(FLYTE2, w, n))))
    return rows


def _pair(r: dict[str, float]) -> tuple[float, float, float]:
    return r["seconds"], r["peak_rss_mb"], r.get("cpu_seconds", 0.0)


def _ratio(a: float, b: float | None) -> str:
    return f"x{a / b:.2f}" if b else "-"


def main() -> dict[str, object]:
    """Measure both tables and return them."""
    return {"main": main_table(), "growth": growth_table()}


def report(r: dict[str, object]) -> None:
    """Print both tables (markdown)."""
    print(f"| workload (median of {REPEAT}) | flyte-core | Flyte 2 | plain Python | core/Flyte 2 | core/plain "
          "| CPU flyte-core | CPU Flyte 2 | CPU core/Flyte 2 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, core, f2, plain, core_cpu, f2_cpu in r["main"]:  # type: ignore[attr-defined]
        fmt = (lambda v: "-" if v is None else f"{v:.3f}") if "(s)" in label else (
            lambda v: "-" if v is None else f"{v:.1f}")
        print(f"| {label} | {fmt(core)} | {fmt(f2)} | {fmt(plain)} | {_ratio(core, f2)} | {_ratio(core, plain)} "
              f"| {fmt(core_cpu)} | {fmt(f2_cpu)} | {_ratio(core_cpu, f2_cpu)} |")
    print()
    print("| growth | n | system | seconds | us/item | per-item vs n=1000 | CPU us/item | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    first: dict[tuple[str, str], float] = {}
    for w, n, system, seconds, rss, used in r["growth"]:  # type: ignore[attr-defined]
        per = seconds / n * 1e6
        base = first.setdefault((w, system), per)
        print(f"| {w} | {n:,} | {system} | {seconds:.2f} | {per:.1f} | x{per / base:.2f} | {used / n * 1e6:.1f} "
              f"| {rss:.0f} |")


if __name__ == "__main__":
    report(main())
