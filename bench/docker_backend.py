"""Overheads of the docker backend against a bare ``docker run`` of the same image, measured in one run.

- ``bare_ms``: ``docker run --rm <default task image> python -c pass`` (best of N);
- ``fresh_ms_per_action``: a driver task calls a trivial task N times in a row, each call in a
  fresh container; the driver's own run with no calls is subtracted, the rest divided by N (with
  standby containers, the default: the third call on takes a container started beforehand);
- ``fresh_no_standby_ms_per_action``: the same with ``standby: false`` (each container started
  when its call is made), and ``..._shared_ms_per_action`` with ``share_network: true`` too (the
  run's containers join one network namespace instead of getting their own);
- ``fan_s``, ``fan_shared_s``: ``flyte.map`` of the trivial task over N_FAN items, each in a fresh
  container (the driver's own run subtracted), without and with ``share_network``, against
  ``bare_fan_s``: N_FAN bare ``docker run --rm`` started at once;
- ``reusable_ms_per_action``: the same calls on a warm container (``flyte.ReusePolicy``), timed
  inside the driver after one call that starts the pool;
- ``pipeline_s``: ``flyte run --backend docker tasks.py pipeline --x 3`` (the seed example, three
  containers) with the image already built.

Needs a Docker engine; set ``FLYTE_DOCKER_BASE_IMAGE`` where the default base cannot be pulled.
Run it as ``python bench/docker_backend.py`` (or as part of ``nox -s bench``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Calls per measurement: a fresh container costs about a second, a warm one milliseconds.
N_FRESH = 8
N_REUSABLE = 300
N_FAN = 10
REPEAT = 3

TASKS = '''
import time
import flyte

fresh = flyte.TaskEnvironment(name="bench_fresh")
warm = flyte.TaskEnvironment(name="bench_warm", reusable=flyte.ReusePolicy(replicas=1))


@fresh.task
def noop(x: int) -> int:
    return x


@warm.task
def warm_noop(x: int) -> int:
    return x


@fresh.task
def drive(n: int) -> int:
    for i in range(n):
        noop(i)
    return n


@fresh.task
def fan(n: int) -> int:
    return len(list(flyte.map(noop, range(n))))


@fresh.task
def drive_warm(n: int) -> float:
    warm_noop(-1)  # starts the pool: not part of the per-action figure
    start = time.perf_counter()
    for i in range(n):
        warm_noop(i)
    return (time.perf_counter() - start) / n
'''


def best_of(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    """The fastest of ``repeat`` wall times (the least disturbed by a noisy machine)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def default_image() -> str:
    """The tag of the default task image (built if this checkout has none yet)."""
    import docker
    from flyte_backend_docker.images import ImageBuilder

    from flyte_core.images.spec import Image

    client = docker.from_env()
    try:
        return ImageBuilder(client).ensure(Image.from_debian_base())
    finally:
        client.close()


def bare_run(tag: str) -> list[str]:
    """The baseline: ``docker run --rm TAG python -c pass``."""
    return ["docker", "run", "--rm", tag, "python", "-c", "pass"]


def bare(tag: str) -> float:
    """Seconds of the best bare ``docker run --rm TAG python -c pass``."""
    def once() -> None:
        subprocess.run(bare_run(tag), check=True, capture_output=True)

    once()
    return best_of(once, repeat=5)


def bare_fan(tag: str, n: int) -> float:
    """Seconds of the best of ``n`` bare ``docker run --rm TAG python -c pass`` started at once."""
    def once() -> None:
        procs = [subprocess.Popen(bare_run(tag), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(n)]
        if any(p.wait() != 0 for p in procs):
            raise RuntimeError("a bare docker run failed")

    return best_of(once)


def in_sessions(project: Path, **options: Any) -> dict[str, float]:
    """Seconds per fresh action in a chain, of a fan-out of N_FAN, and per warm action, from runs of
    the driver tasks in a session with these backend ``options``."""
    from flyte_core.config.files import Config
    from flyte_core.run.session import Session
    from flyte_core.task.loader import load_file

    project.mkdir(parents=True, exist_ok=True)
    (project / "bench_tasks.py").write_text(TASKS)
    sys.modules.pop("bench_tasks", None)
    tasks = load_file(project / "bench_tasks.py", project)
    s = Session(config=Config(), backend="docker", backend_options={"echo": False, **options},
                data_url=str(project / "data"), run_store=str(project / "runs.db"), root_dir=project)
    try:
        s.run(tasks.drive, n=1)  # warm up: image, wheelhouse probe, bundle
        empty = best_of(lambda: s.run(tasks.drive, n=0))
        calls = best_of(lambda: s.run(tasks.drive, n=N_FRESH))
        fanned = best_of(lambda: s.run(tasks.fan, n=N_FAN))
        warm = min(s.run(tasks.drive_warm, n=N_REUSABLE).outputs()[0] for _ in range(REPEAT))
    finally:
        s.close()
    return {"fresh": (calls - empty) / N_FRESH, "fan": fanned - empty, "warm": warm}


def pipeline(project: Path) -> float:
    """Seconds of the best ``flyte run --backend docker tasks.py pipeline --x 3``."""
    project.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "examples" / "tasks.py", project / "tasks.py")
    env = {**os.environ, "FLYTE_HOME": str(project / "home")}
    cmd = [sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--backend", "docker", "tasks.py",
           "pipeline", "--x", "3"]

    def once() -> None:
        r = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0 or r.stdout.strip() != "16":
            raise RuntimeError(f"the seed pipeline failed: {r.stderr[-2000:]}")

    once()  # warm: the image exists, the wheelhouse probe is cached
    return best_of(once)


def main() -> dict[str, float]:
    """Run the benchmark and return its figures."""
    tag = default_image()
    bare_s = bare(tag)
    bare_fan_s = bare_fan(tag, N_FAN)
    with tempfile.TemporaryDirectory() as tmp:
        default = in_sessions(Path(tmp) / "session")
        no_standby = in_sessions(Path(tmp) / "no-standby", standby=False)
        shared = in_sessions(Path(tmp) / "shared", standby=False, share_network=True)
        seed = pipeline(Path(tmp) / "cli")
    return {
        "bare_ms": bare_s * 1e3,
        "fresh_ms_per_action": default["fresh"] * 1e3,
        "fresh_no_standby_ms_per_action": no_standby["fresh"] * 1e3,
        "fresh_no_standby_shared_ms_per_action": shared["fresh"] * 1e3,
        "reusable_ms_per_action": default["warm"] * 1e3,
        "fresh_over_bare": default["fresh"] / bare_s,
        "fresh_no_standby_over_bare": no_standby["fresh"] / bare_s,
        "fresh_no_standby_shared_over_bare": shared["fresh"] / bare_s,
        "fresh_over_reusable": default["fresh"] / default["warm"],
        "bare_fan_s": bare_fan_s,
        "fan_s": default["fan"],
        "fan_shared_s": shared["fan"],
        "fan_over_bare": default["fan"] / bare_fan_s,
        "fan_shared_over_bare": shared["fan"] / bare_fan_s,
        "pipeline_s": seed,
    }


def report(r: dict[str, float]) -> None:
    """Print the figures."""
    print(f"bare `docker run --rm <image> python -c pass`: {r['bare_ms']:.0f} ms")
    print(f"fresh container: {r['fresh_ms_per_action']:.0f} ms/action (x{r['fresh_over_bare']:.2f} the bare run)")
    print(f"fresh container, standby off: {r['fresh_no_standby_ms_per_action']:.0f} ms/action "
          f"(x{r['fresh_no_standby_over_bare']:.2f} the bare run)")
    print(f"fresh container, standby off, shared network: {r['fresh_no_standby_shared_ms_per_action']:.0f} ms/action "
          f"(x{r['fresh_no_standby_shared_over_bare']:.2f} the bare run)")
    print(f"fan-out of {N_FAN} fresh containers: {r['fan_s']:.2f} s, with a shared network {r['fan_shared_s']:.2f} s; "
          f"{N_FAN} bare runs at once {r['bare_fan_s']:.2f} s "
          f"(x{r['fan_over_bare']:.2f}, x{r['fan_shared_over_bare']:.2f})")
    print(f"reusable container: {r['reusable_ms_per_action']:.2f} ms/action "
          f"(fresh is x{r['fresh_over_reusable']:.0f} that)")
    print(f"`flyte run --backend docker tasks.py pipeline --x 3` (warm image): {r['pipeline_s']:.2f} s")


if __name__ == "__main__":
    report(main())
