"""Pod start-to-finish of an action against a bare ``kubectl run`` of the same image and command,
and the controller's own cost per action.

    python backends/kubernetes/bench/pod_start.py [--n 10] [--namespace flyte-e2e] [--kubectl PATH]

- kubectl (the baseline): ``kubectl run NAME --restart=Never --image=IMAGE
  --image-pull-policy=IfNotPresent -n NS -- python -c "import flyte_core.worker.entrypoint"`` (the
  imports every action pays) with the task image, timed from invoking kubectl until an API watch
  (opened before the invocation) reports the pod ``Succeeded``;
- api (a second baseline): the pod ``kubectl run`` makes, created through the API from this
  process, which leaves out kubectl's own start-up (about what the backend pays to create a pod);
  the two baselines take turns, one pod at a time;
- action: a task calling a no-op task ``n`` times in sequence on the kubernetes backend, each
  child's time from the run store (handed to the backend -> outcome recorded), which includes
  writing the spec, creating the pod, the worker unpacking the code and loading the task, the
  outcome and log collection and the pod's deletion;
- controller CPU: this process's CPU seconds during the measured run, per action.

Ratios are medians, action / baseline. Every baseline pod is deleted once timed (and on the way
out, however the script ends). Needs a cluster (``$KUBECONFIG``), kubectl and the offline base
image; prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TASKS = """
import flyte

env = flyte.TaskEnvironment(name="bench")


@env.task
def noop() -> int:
    return 1


@env.task
def chain(n: int) -> int:
    return sum(noop() for _ in range(n))
"""

COMMAND = ["python", "-c", "import flyte_core.worker.entrypoint"]
TIMEOUT_S = 180


def _until_done(api: Any, namespace: str, name: str, start: Callable[[], None]) -> float:
    """Seconds from calling ``start`` (which creates pod ``name``) until the pod has finished; an
    error unless it ``Succeeded``. The watch resumes from a resource version read before ``start``,
    so no event of the pod is missed however quickly it runs."""
    from kubernetes import watch

    selector = f"metadata.name={name}"
    rv = api.list_namespaced_pod(namespace, field_selector=selector).metadata.resource_version
    t0 = time.perf_counter()
    start()
    deadline = t0 + TIMEOUT_S
    w = watch.Watch()
    while time.perf_counter() < deadline:
        for ev in w.stream(
            api.list_namespaced_pod,
            namespace,
            field_selector=selector,
            resource_version=rv,
            timeout_seconds=max(1, int(deadline - time.perf_counter())),
        ):
            pod = ev["object"]
            rv = pod.metadata.resource_version
            phase = pod.status.phase if pod.status else None
            if phase == "Succeeded":
                w.stop()
                return time.perf_counter() - t0
            if phase == "Failed":
                w.stop()
                raise RuntimeError(f"bench pod {name} failed: {pod.status}")
    raise TimeoutError(f"bench pod {name} did not finish within {TIMEOUT_S} s")


def _delete(api: Any, namespace: str, names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(Exception):
            api.delete_namespaced_pod(name, namespace, grace_period_seconds=0)


def kubectl_run(kubectl: str, namespace: str, image: str, name: str) -> None:
    """``kubectl run NAME --restart=Never ...`` of ``image`` and :data:`COMMAND` (returns once kubectl has)."""
    argv = [kubectl, "run", name, "--restart=Never", f"--image={image}", "--image-pull-policy=IfNotPresent"]
    argv += ["-n", namespace, "--", *COMMAND]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")


def api_pod(api: Any, namespace: str, image: str, name: str) -> None:
    """The pod ``kubectl run`` makes, created through the API from this process."""
    container = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent", "args": COMMAND}
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"run": name}},
        "spec": {"restartPolicy": "Never", "containers": [container]},
    }
    api.create_namespaced_pod(namespace, body)


def baseline_seconds(api: Any, kubectl: str, namespace: str, image: str, n: int) -> dict[str, list[float]]:
    """Start-to-Succeeded of ``n`` pods per baseline, one pod at a time, the two baselines taking
    turns (so a slow spell of the node weighs on both alike); each pod deleted once timed."""
    prefix = f"bench-{int(time.time())}"
    starts: dict[str, Callable[[str], None]] = {
        "kubectl": lambda name: kubectl_run(kubectl, namespace, image, name),
        "api": lambda name: api_pod(api, namespace, image, name),
    }
    out: dict[str, list[float]] = {kind: [] for kind in starts}
    names: list[str] = []
    try:
        for i in range(n):
            for kind, start in starts.items():
                name = f"{prefix}-{kind}-{i}"
                names.append(name)
                out[kind].append(_until_done(api, namespace, name, lambda start=start, name=name: start(name)))
                _delete(api, namespace, [name])
    finally:
        _delete(api, namespace, names)  # whatever an error left behind (deleting a deleted pod is a no-op)
    return out


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--namespace", default="flyte-e2e")
    parser.add_argument("--base-image", default="flyte-ci/python:3.11-bookworm")
    parser.add_argument("--kubectl", default=shutil.which("kubectl") or "kubectl")
    args = parser.parse_args()

    import docker
    from flyte_backend_docker.images import ImageBuilder
    from flyte_backend_kubernetes import rbac
    from flyte_backend_kubernetes.client import connect
    from kubernetes import client

    from flyte_core.extend import Config, Image, Session, load_file

    api_client, _ = connect()
    api = client.CoreV1Api(api_client)
    # The image the actions run: the backend's builder finds the same content hash (built once, here
    # or by the run), so the baselines start exactly what every action starts.
    tag = ImageBuilder(docker.from_env(), base_image=args.base_image).ensure(Image.from_debian_base())
    rbac.apply(api_client, rbac.manifests(args.namespace))  # the namespace, as `flyte kubernetes setup` makes it

    root = Path(tempfile.mkdtemp(prefix="flyte-k8s-bench-"))
    (root / "bench_tasks.py").write_text(TASKS)
    tasks = load_file(root / "bench_tasks.py", root)
    data = root / "data"
    opts = {"namespace": args.namespace, "data_host_path": str(data), "base_image": args.base_image, "echo": False}
    s = Session(
        config=Config(),
        backend="kubernetes",
        backend_options=opts,
        data_url=str(data),
        run_store=str(root / "runs.db"),
        root_dir=root,
    )
    try:
        s.run(tasks.chain, n=1)  # warm-up: image, bundle, first pods
        cpu = time.process_time()
        run = s.run(tasks.chain, n=args.n)
        cpu = time.process_time() - cpu
        actions = [a for a in run.actions() if a.action != "a0" and a.started_at and a.ended_at]
        action_s = [a.ended_at - a.started_at for a in actions]  # type: ignore[operator]
    finally:
        s.close()

    baselines = baseline_seconds(api, args.kubectl, args.namespace, tag, args.n)
    kubectl_s, api_s = baselines["kubectl"], baselines["api"]
    api_client.close()
    action = statistics.median(action_s)
    result = {
        "n": args.n,
        "image": tag,
        "kubectl_run_median_s": _median(kubectl_s),
        "api_pod_median_s": _median(api_s),
        "action_median_s": _median(action_s),
        "ratio_action_kubectl": round(action / statistics.median(kubectl_s), 2),
        "ratio_action_api": round(action / statistics.median(api_s), 2),
        "controller_cpu_per_action_s": round(cpu / (args.n + 1), 4),
        "kubectl_run_s": [round(x, 3) for x in kubectl_s],
        "api_pod_s": [round(x, 3) for x in api_s],
        "action_s": [round(x, 3) for x in action_s],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
