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


def main() -> None:
    """Run each benchmark and print its report (``--json`` for machine-readable output)."""
    results = {"dispatch": dispatch.main(), "cache": cache.main(), "frames": frames.main()}
    try:
        results["docker"] = docker_backend.main()
    except Exception as e:  # no engine here: the other figures still count
        print(f"docker benchmark skipped: {e}", file=sys.stderr)
    if os.environ.get("FLYTE_BENCH_CONTAINERS", "1") != "0":
        results["containers"] = containers.main()
    if "--json" in sys.argv:
        print(json.dumps(results, indent=2))
        return
    print("== task dispatch (local backend, full tracking) ==")
    dispatch.report(results["dispatch"])
    print("== cache hits ==")
    cache.report(results["cache"])
    print("== DataFrames between two tasks (FLYTE_BENCH_FRAME_MB, default 1024) ==")
    frames.report(results["frames"])
    if "docker" in results:
        print("== docker backend ==")
        docker_backend.report(results["docker"])
    if "containers" in results:
        print("== container backends under load (abort latency, fan-out throughput) ==")
        containers.report(results["containers"])


if __name__ == "__main__":
    main()
