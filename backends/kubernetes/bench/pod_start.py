"""Pod start-to-finish of an action against a bare pod of the same image, and the controller's
own cost per action.

    python backends/kubernetes/bench/pod_start.py [--n 10] [--namespace flyte-e2e]

- bare: a pod created through the API (what ``kubectl run --restart=Never`` sends) with the task
  image, running ``python -c "import flyte_core.entrypoint"`` (the imports every action pays),
  timed from the create call until the watch reports ``Succeeded``, one at a time;
- action: a task calling a no-op task ``n`` times in sequence on the kubernetes backend, each
  child's time from the run store (handed to the backend -> outcome recorded), which includes
  writing the spec, creating the pod, the worker unpacking the code and loading the task, the
  outcome and log collection and the pod's deletion;
- controller CPU: this process's CPU seconds during the measured run, per action.

Needs a cluster (``$KUBECONFIG``) and the offline base image; prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

TASKS = '''
import flyte

env = flyte.TaskEnvironment(name="bench")


@env.task
def noop() -> int:
    return 1


@env.task
def chain(n: int) -> int:
    return sum(noop() for _ in range(n))
'''


def bare_pod_seconds(api: object, namespace: str, image: str, n: int) -> list[float]:
    """Create-to-Succeeded of ``n`` bare pods, one after the other."""
    from kubernetes import watch

    out = []
    for i in range(n):
        name = f"bench-bare-{int(time.time())}-{i}"
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"bench": "bare"}},
                "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False, "containers": [{
                    "name": "primary", "image": image, "imagePullPolicy": "IfNotPresent",
                    "command": ["python", "-c", "import flyte_core.entrypoint"]}]}}
        w = watch.Watch()
        start = time.perf_counter()
        api.create_namespaced_pod(namespace, body)  # type: ignore[attr-defined]
        for ev in w.stream(api.list_namespaced_pod, namespace,  # type: ignore[attr-defined]
                           field_selector=f"metadata.name={name}", timeout_seconds=120):
            if ev["object"].status.phase in ("Succeeded", "Failed"):
                w.stop()
        out.append(time.perf_counter() - start)
        api.delete_namespaced_pod(name, namespace, grace_period_seconds=0)  # type: ignore[attr-defined]
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--namespace", default="flyte-e2e")
    parser.add_argument("--base-image", default="flyte-ci/python:3.11-bookworm")
    args = parser.parse_args()

    from flyte_backend_kubernetes.client import connect
    from kubernetes import client

    from flyte_core.config import Config
    from flyte_core.loader import load_file
    from flyte_core.session import Session

    root = Path(tempfile.mkdtemp(prefix="flyte-k8s-bench-"))
    (root / "bench_tasks.py").write_text(TASKS)
    tasks = load_file(root / "bench_tasks.py", root)
    data = root / "data"
    opts = {"namespace": args.namespace, "data_host_path": str(data), "base_image": args.base_image, "echo": False}
    s = Session(config=Config(), backend="kubernetes", backend_options=opts, data_url=str(data),
                run_store=str(root / "runs.db"), root_dir=root)
    s.run(tasks.chain, n=1)  # warm-up: image, bundle, first pods
    cpu = time.process_time()
    run = s.run(tasks.chain, n=args.n)
    cpu = time.process_time() - cpu
    actions = [a for a in run.actions() if a.action != "a0" and a.started_at and a.ended_at]
    action_s = [a.ended_at - a.started_at for a in actions]  # type: ignore[operator]
    api_client, _ = connect()
    api = client.CoreV1Api(api_client)
    import docker
    from flyte_backend_docker.images import ImageBuilder

    from flyte_core.image import Image

    tag = ImageBuilder(docker.from_env(), base_image=args.base_image).ensure(Image.from_debian_base())
    bare_s = bare_pod_seconds(api, args.namespace, tag, args.n)
    s.close()
    result = {
        "n": args.n, "image": tag,
        "bare_pod_median_s": round(statistics.median(bare_s), 3),
        "action_median_s": round(statistics.median(action_s), 3),
        "ratio": round(statistics.median(action_s) / statistics.median(bare_s), 2),
        "controller_cpu_per_action_s": round(cpu / (args.n + 1), 4),
        "bare_pod_s": [round(x, 3) for x in bare_s], "action_s": [round(x, 3) for x in action_s],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
