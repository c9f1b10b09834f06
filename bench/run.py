"""``nox -s bench``: every benchmark, each reporting against a baseline measured in the same run.

Figures are best-of-N wall times on whatever machine runs them; compare the ratios, not the
absolute numbers, between machines.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import cache
import containers
import dispatch
import docker_backend
import frames
import instructions
import issue17
import progress
import runstore

NAMES = ("issue17", "instructions", "runstore", "dispatch", "cache", "progress", "frames", "docker", "containers")


def main() -> None:
    """Run each benchmark (or those named on the command line) and print its report (``--json``
    for machine-readable output)."""
    chosen = [a for a in sys.argv[1:] if a in NAMES] or list(NAMES)
    results: dict[str, object] = {}
    for name, fn in (("issue17", issue17.main), ("instructions", instructions.main), ("runstore", runstore.main),
                     ("dispatch", dispatch.main), ("cache", cache.main), ("progress", progress.main),
                     ("frames", frames.main)):
        if name in chosen:
            results[name] = fn()
    if "docker" in chosen:
        try:
            results["docker"] = docker_backend.main()
        except Exception as e:  # no engine here: the other figures still count
            print(f"docker benchmark skipped: {e}", file=sys.stderr)
    if "containers" in chosen and os.environ.get("FLYTE_BENCH_CONTAINERS", "1") != "0":
        results["containers"] = containers.main()
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    if "issue17" in results:
        print("== issue 17: flyte-core, Flyte 2 2.12.1 and plain Python (fresh interpreters) ==")
        issue17.report(results["issue17"])  # type: ignore[arg-type]
    if results.get("instructions"):
        print("== instructions per action (valgrind; the same on a loaded machine) ==")
        instructions.report(results["instructions"])  # type: ignore[arg-type]
    if "runstore" in results:
        print("== reading a large run store (FLYTE_BENCH_STORE_ACTIONS, default 1,000,000) ==")
        runstore.report(results["runstore"])  # type: ignore[arg-type]
    if "dispatch" in results:
        print("== task dispatch (local backend, full tracking) ==")
        dispatch.report(results["dispatch"])  # type: ignore[arg-type]
    if "cache" in results:
        print("== cache hits ==")
        cache.report(results["cache"])  # type: ignore[arg-type]
    if "progress" in results:
        print("== flyte run's progress display ==")
        progress.report(results["progress"])  # type: ignore[arg-type]
    if "frames" in results:
        print("== DataFrames between two tasks (FLYTE_BENCH_FRAME_MB, default 1024) ==")
        frames.report(results["frames"])  # type: ignore[arg-type]
    if "docker" in results:
        print("== docker backend ==")
        docker_backend.report(results["docker"])  # type: ignore[arg-type]
    if "containers" in results:
        print("== container backends under load (abort latency, fan-out throughput) ==")
        containers.report(results["containers"])  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
