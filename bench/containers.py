"""Container backends under load: abort latency against fan-out, and fan-out throughput.

- ``abort_s[backend][how][n]``: a task fans out to ``n`` sleeping children (every one running,
  ``max_concurrent_actions`` raised above ``n``); the figure is the time from Ctrl-C (SIGINT to
  ``flyte run``) or from launching ``flyte runs abort RUN`` to no container/pod of the run left
  running, as the engine/API server reports it (polled every 50 ms); the latter includes the
  command's own start, reported beside it (``abort_command_start_s``);
  on docker also ``processes_s``: the time to no process of the run's containers left (each
  container's main process, seen in ``/proc``: the engine's own bookkeeping of exits comes after,
  and on a busy engine it is most of the first figure).
  The docker figures come with baselines measured in the same run: killing as many bare
  ``sleep`` containers in parallel (what the engine itself needs to stop them on this machine),
  and as many bare containers exiting by themselves at once (what the engine needs merely to
  notice they stopped), each to no process and to the engine reporting none running;
- ``actions_per_s[mode]``: a task maps a trivial task over 100 inputs on docker, in fresh
  containers and on reusable ones (``flyte.ReusePolicy(replicas=(1, 4), concurrency=8)``): the
  98 actions beyond a run of 2 divided by the difference in wall time, with the image built.

With ``--before DIR`` (a source tree of another version of the project, e.g. ``git archive
<commit> flyte flyte_core backends/docker | tar -x -C DIR``), each abort figure is also measured
with that version's core and docker backend (put first on ``PYTHONPATH``), alternating with this
one in the same run, and reported as the ratio after/before. With ``--engine-kill``, each abort
figure is also measured with ``backends.docker.host_kill: false`` (the engine kills the containers,
as wherever this process cannot signal them itself: a remote engine, another user's containers).

Backends without an engine/cluster are skipped with the reason. Run it as
``python bench/containers.py [docker|kubernetes ...] [--fan-out 10,100] [--how ctrl-c,runs-abort]
[--no-throughput] [--before DIR] [--engine-kill]`` or within ``nox -s bench`` (``FLYTE_BENCH_CONTAINERS=0`` leaves
it out: it starts hundreds of containers).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FAN_OUTS = (10, 100)
THROUGHPUT_N = 100

TASKS = '''
import time
import flyte

env = flyte.TaskEnvironment(name="cbench")
warm = flyte.TaskEnvironment(name="cbench_warm", reusable=flyte.ReusePolicy(replicas=(1, 4), concurrency=8))


@env.task
def sleeper(i: int) -> int:
    time.sleep(900)
    return i


@env.task
def fan_sleep(n: int) -> list[int]:
    return list(flyte.map(sleeper, range(n)))


@env.task
def noop(i: int) -> int:
    return i


@env.task
def fan_fresh(n: int) -> int:
    return sum(flyte.map(noop, range(n)))


@warm.task
async def warm_noop(i: int) -> int:
    return i


@env.task
async def fan_warm(n: int) -> int:
    import asyncio
    return sum(await asyncio.gather(*(warm_noop.aio(i) for i in range(n))))
'''

#: How figures measured with ``--before`` are named.
BEFORE = "(before)"
#: How figures measured with ``--engine-kill`` are named.
ENGINE_KILL = "(host_kill: false)"
#: The namespace kubernetes runs use (set up as `flyte kubernetes setup` does; the e2e tests' by default).
K8S_NAMESPACE = os.environ.get("FLYTE_BENCH_K8S_NAMESPACE", "flyte-e2e")


def _config(project: Path, host_kill: bool = True) -> str:
    """Data in the project folder, which a single-node cluster's pods mount with hostPath."""
    data = project / "data"
    base = os.environ.get("FLYTE_DOCKER_BASE_IMAGE")
    # host_kill is left out unless False, so a version from before it (--before) reads the config too.
    return f"""storage:
  data: {data}
  runs: {project / "runs.db"}
backends:
  docker:
    max_concurrent_actions: 500
    echo: false
{"" if host_kill else "    host_kill: false" + chr(10)}  kubernetes:
    namespace: {K8S_NAMESPACE}
    data_host_path: {data}
""" + (f"    base_image: {base}\n" if base else "")


def _project(tmp: Path, host_kill: bool = True) -> Path:
    (tmp / ".flyte").mkdir(parents=True, exist_ok=True)
    (tmp / ".flyte" / "config.yaml").write_text(_config(tmp, host_kill))
    (tmp / "cbench_tasks.py").write_text(TASKS)
    return tmp


def _env(project: Path, code: str | None = None) -> dict[str, str]:
    """The environment of a flyte command; ``code``: a source tree whose core and docker backend
    shadow the installed ones (``--before``)."""
    env = {**os.environ, "FLYTE_HOME": str(project / "home")}
    # As installed (pip writes bytecode): without it every command compiles what it imports, which
    # was most of the ~1.2 s `flyte runs abort` took to start here (nox's virtualenvs have no bytecode).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([code, os.path.join(code, "backends", "docker"),
                                             *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _flyte(project: Path, *args: str, code: str | None = None, **kw: Any) -> Any:
    return subprocess.Popen([sys.executable, "-m", "flyte_core.cli", *args], cwd=project, env=_env(project, code),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)


def _running_counter(backend: str) -> Callable[[str], int]:
    """How many containers/pods of a run run now."""
    if backend == "docker":
        import docker

        client = docker.from_env()
        return lambda run: len(client.api.containers(filters={"label": f"org.flyte.run={run}",
                                                              "status": "running"}))
    from flyte_backend_kubernetes.client import connect
    from flyte_backend_kubernetes.names import run_selector
    from kubernetes import client as k8s

    api_client, _ = connect(None, None)
    core = k8s.CoreV1Api(api_client)

    def count(run: str) -> int:
        pods = core.list_namespaced_pod(K8S_NAMESPACE, label_selector=run_selector(run)).items
        return sum(1 for p in pods if p.status.phase in ("Pending", "Running"))  # terminating ones count too

    return count


def _docker_pids(label: str) -> list[int] | None:
    """Main process ids of the running containers labelled ``label``; None when they are not
    visible here (a remote engine, or one in a VM)."""
    import docker

    client = docker.from_env()
    try:
        pids = [int(client.api.inspect_container(c["Id"])["State"]["Pid"])
                for c in client.api.containers(filters={"label": label, "status": "running"})]
    finally:
        client.close()
    return pids if pids and all(_alive(p) for p in pids) else None


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not: it has exited and waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _until_stopped(running: Callable[[], int], pids: list[int] | None, t0: float) -> dict[str, float]:
    """Poll until no process of ``pids`` is alive and ``running()`` is 0; seconds since ``t0`` to each."""
    out: dict[str, float] = {}
    while True:
        if pids is not None and "processes_s" not in out and not any(_alive(p) for p in pids):
            out["processes_s"] = time.perf_counter() - t0
        if running() == 0:
            out["engine_s"] = time.perf_counter() - t0
            if pids is None or "processes_s" in out:
                return out
        time.sleep(0.02)


def abort_latency(backend: str, project: Path, n: int, how: str, code: str | None = None) -> dict[str, float]:
    """Seconds from the abort (``ctrl-c`` or ``runs-abort``) to nothing of the run running as the
    engine/API server reports it (``engine_s``), and on docker to no process of it left
    (``processes_s``); ``exit_s``: to ``flyte run`` exiting (its containers removed). ``code``: run
    another version of the project (see ``--before``)."""
    running = _running_counter(backend)
    run = f"cb-{backend[:3]}-{how[:1]}{n}-{'b' if code else ''}{os.getpid()}"
    local = ["--local-controller"] if backend == "kubernetes" else []  # Ctrl-C aborts instead of detaching
    proc = _flyte(project, "run", "--no-progress", *local, "--backend", backend, "--name", run, "cbench_tasks.py",
                  "fan_sleep", "--n", str(n), code=code)
    try:
        deadline = time.monotonic() + 1800
        while running(run) < n + 1:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the fan-out of {n} did not start: {proc.stderr.read()[-2000:]}")
            time.sleep(0.5)
        pids = _docker_pids(f"org.flyte.run={run}") if backend == "docker" else None
        t0 = time.perf_counter()
        if how == "ctrl-c":
            proc.send_signal(signal.SIGINT)
        else:
            subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "runs", "abort", run], cwd=project,
                             env=_env(project, code), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = _until_stopped(lambda: running(run), pids, t0)
        proc.wait(timeout=300)
        out["exit_s"] = time.perf_counter() - t0
        return out
    finally:
        if proc.poll() is None:
            proc.kill()


def throughput(project: Path, task: str) -> float:
    """Actions per second of a fan-out of 100 trivial calls on docker, beyond a run of 2 (so the
    run's own start, its parent's container and the image check are not counted)."""
    def timed(n: int) -> float:
        t0 = time.perf_counter()
        proc = _flyte(project, "run", "--no-progress", "--backend", "docker", "cbench_tasks.py", task, "--n", str(n))
        if proc.wait(timeout=1800) != 0:
            raise RuntimeError(f"{task} failed: {proc.stderr.read()[-2000:]}")
        return time.perf_counter() - t0

    timed(2)  # warm: the image exists, the wheelhouse probe is cached
    small = timed(2)
    return (THROUGHPUT_N - 2) / max(1e-9, timed(THROUGHPUT_N) - small)


def abort_command_start(project: Path) -> float:
    """The baseline of ``runs-abort``: seconds ``flyte runs abort`` takes for a run it does not find
    (starting Python, loading the plugins, opening the store), before it can ask for anything."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "flyte_core.cli", "runs", "abort", "no-such-run"], cwd=project,
                   env=_env(project), capture_output=True)
    return time.perf_counter() - t0


def engine_floor(n: int, how: str) -> dict[str, float]:
    """A baseline: ``n`` bare containers stop at once, ``how``: ``kill`` (the engine is told to
    kill each, all in parallel) or ``self`` (each exits by itself, as a task container does when
    its controller drops it); seconds to no process left and to the engine reporting none running."""
    from concurrent.futures import ThreadPoolExecutor

    import docker

    client = docker.from_env()
    value = f"cb-floor-{how}-{os.getpid()}"
    label = f"org.flyte.run={value}"
    image = os.environ.get("FLYTE_DOCKER_BASE_IMAGE", "python:3.11-slim-bookworm")
    stop = Path(tempfile.mkdtemp(prefix="cb-floor-"))
    os.chmod(stop, 0o777)
    command = ["sh", "-c", "while [ ! -e /stop/now ]; do sleep 0.02; done"] if how == "self" else ["sleep", "900"]
    host_config = client.api.create_host_config(binds={str(stop): {"bind": "/stop", "mode": "ro"}})
    ids = [client.api.create_container(image, command=command, labels={"org.flyte.run": value},
                                       host_config=host_config)["Id"] for _ in range(n)]
    try:
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(client.api.start, ids))
            deadline = time.monotonic() + 600
            while len(client.api.containers(filters={"label": label, "status": "running"})) < n:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{n} bare containers did not start")
                time.sleep(0.1)
            pids = _docker_pids(label)
            t0 = time.perf_counter()
            if how == "self":
                (stop / "now").touch()
            else:
                list(pool.map(client.api.kill, ids))
        return _until_stopped(lambda: len(client.api.containers(filters={"label": label, "status": "running"})),
                              pids, t0)
    finally:
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda cid: client.api.remove_container(cid, force=True), ids))
        client.close()
        shutil.rmtree(stop, ignore_errors=True)


def _available(backend: str) -> str | None:
    """None when the backend can run here, else why not."""
    try:
        if backend == "docker":
            import docker

            docker.from_env().ping()
        else:
            if not os.environ.get("KUBECONFIG") and not Path("~/.kube/config").expanduser().exists():
                return "no KUBECONFIG"
            from flyte_backend_kubernetes.client import connect

            connect(None, None)
    except Exception as e:
        return str(e)
    return None


def main(backends: tuple[str, ...] = ("docker", "kubernetes"), fan_outs: tuple[int, ...] = FAN_OUTS,
         hows: tuple[str, ...] = ("ctrl-c", "runs-abort"), throughput_too: bool = True,
         before: str | None = None, engine_kill: bool = False) -> dict[str, Any]:
    """Run the benchmark and return its figures (a backend that cannot run is reported as skipped;
    ``before``: a source tree to compare the abort figures with, see the module doc)."""
    out: dict[str, Any] = {"abort_s": {}, "actions_per_s": {}, "skipped": {}}
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(Path(tmp))
        by_engine = _project(Path(tmp) / "engine-kill", host_kill=False) if engine_kill else None
        for backend in backends:
            why = _available(backend)
            if why is not None:
                out["skipped"][backend] = why
                continue
            figures = out["abort_s"][backend] = {}
            if backend == "docker":
                figures["baseline: engine kills bare containers"] = {n: engine_floor(n, "kill") for n in fan_outs}
                figures["baseline: bare containers exit by themselves"] = {n: engine_floor(n, "self")
                                                                          for n in fan_outs}
            for how in hows:
                figures[how] = {}
                for n in fan_outs:
                    if before is not None:  # first, so neither version always runs on a warmer engine
                        figures.setdefault(f"{how} {BEFORE}", {})[n] = abort_latency(backend, project, n, how, before)
                    if by_engine is not None and backend == "docker":
                        figures.setdefault(f"{how} {ENGINE_KILL}", {})[n] = abort_latency(backend, by_engine, n, how)
                    figures[how][n] = abort_latency(backend, project, n, how)
            out["abort_command_start_s"] = abort_command_start(project)
        if throughput_too and "docker" in backends and "docker" not in out["skipped"]:
            out["actions_per_s"] = {"fresh": throughput(project, "fan_fresh"),
                                    "reused": throughput(project, "fan_warm")}
    return out


def report(r: dict[str, Any]) -> None:
    """Print the figures."""
    for backend, hows in r["abort_s"].items():
        floor = hows.get("baseline: engine kills bare containers", {})
        for how, by_n in hows.items():
            for n, f in by_n.items():
                line = f"{backend} {how}, fan-out {n}: engine reports none running after {f['engine_s']:.2f} s"
                if "processes_s" in f:
                    line += f", no process left after {f['processes_s']:.2f} s"
                if "exit_s" in f:
                    line += f", flyte run exited after {f['exit_s']:.2f} s"
                if n in floor and not how.startswith("baseline"):
                    line += f" (x{f['engine_s'] / floor[n]['engine_s']:.2f} the engine's kill baseline"
                    if "processes_s" in f and "processes_s" in floor[n]:
                        line += f"; processes x{f['processes_s'] / floor[n]['processes_s']:.2f}"
                    line += ")"
                old = hows.get(f"{how} {BEFORE}", {}).get(n)
                if old is not None:
                    line += "; after/before: " + ", ".join(f"{k[:-2]} x{f[k] / old[k]:.2f}" for k in
                                                           ("processes_s", "engine_s", "exit_s") if k in f and k in old)
                print(line)
    if "abort_command_start_s" in r:
        print(f"baseline of runs-abort: `flyte runs abort` itself starts in {r['abort_command_start_s']:.2f} s")
    for mode, rate in r["actions_per_s"].items():
        print(f"docker fan-out {THROUGHPUT_N}, {mode} containers: {rate:.1f} actions/s")
    for backend, why in r["skipped"].items():
        print(f"{backend}: skipped ({why})")


if __name__ == "__main__":
    argv = sys.argv[1:]

    def option(name: str) -> str | None:
        if name not in argv:
            return None
        i = argv.index(name)
        value = argv[i + 1]
        del argv[i:i + 2]
        return value

    fan = tuple(int(x) for x in (option("--fan-out") or ",".join(map(str, FAN_OUTS))).split(","))
    how_list = tuple((option("--how") or "ctrl-c,runs-abort").split(","))
    before_tree = option("--before")
    no_throughput = "--no-throughput" in argv
    by_engine_too = "--engine-kill" in argv
    args = [a for a in argv if not a.startswith("--")]
    report(main(tuple(args) or ("docker", "kubernetes"), fan, how_list, not no_throughput, before_tree,
                by_engine_too))
