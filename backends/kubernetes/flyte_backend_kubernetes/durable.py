"""Durable runs: the top-level task is driven by a pod inside the cluster, so the run goes on
when the terminal that started it closes.

:func:`launch` (``flyte kubernetes run``) prepares everything the driver cannot do itself — it
builds the images of the task module's environments with the local engine (the driver has no
Docker), ships the code bundle, writes the driver's config — and creates the driver pod, which
runs ``flyte run`` in-cluster with the ``flyte-runner`` ServiceAccount (``flyte kubernetes
setup``). Single-node clusters only, like the hostPath data store: the run store (SQLite) is
shared with the driver through a ``hostPath`` mount of its folder. :func:`follow` (also
``flyte kubernetes follow RUN``, to re-attach) reads progress and logs from the run store until
the run ends; leaving it (Ctrl-C) detaches without stopping the run, and ``flyte runs abort``
stops it.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from flyte_backend_docker.bundle import make_bundle
from kubernetes import client

from flyte_backend_kubernetes import pods as podops
from flyte_backend_kubernetes.client import connect
from flyte_backend_kubernetes.images import PodImages, image_key
from flyte_backend_kubernetes.options import KubeOptions
from flyte_backend_kubernetes.rbac import DEFAULT_ACCOUNT
from flyte_backend_kubernetes.runsetup import host_data_root
from flyte_core.config import Config, flyte_home
from flyte_core.datastore import DataStore
from flyte_core.environment import TaskEnvironment
from flyte_core.errors import FlyteUsageError
from flyte_core.image import Image
from flyte_core.loader import load_file, tasks_in
from flyte_core.session import Session

#: Label of a driver pod; its value is the run's name (not the run label: closing the run's
#: backend inside the driver must not delete the driver itself).
DRIVER_LABEL = "flyte-core.org/driver-of"
CODE_DIR = "/flyte/driver"
#: Options that name this machine's kubeconfig, meaningless inside the cluster.
_HOST_ONLY = ("kubeconfig", "context", "echo")


def environments(module: Any) -> list[TaskEnvironment]:
    """The task environments a module's tasks use, with the ones they depend on."""
    found: dict[int, TaskEnvironment] = {}
    todo = [t.env for t in tasks_in(module).values()] + [v for v in vars(module).values()
                                                          if isinstance(v, TaskEnvironment)]
    while todo:
        env = todo.pop()
        if id(env) not in found:
            found[id(env)] = env
            todo.extend(env.depends_on)
    return list(found.values())


def launch(config: Config, file: str, task: str, args: Sequence[str], *, name: str | None = None,
           log: Callable[[str], None] = lambda line: None) -> tuple[str, str, str]:
    """Create the driver pod of a new run; return ``(run name, pod name, namespace)``."""
    raw = dict(config.backend_options("kubernetes"))
    opts = KubeOptions.parse(raw)
    data = host_data_root(config.data_url, opts.data_host_path)
    runs_dir = os.path.dirname(os.path.abspath(config.runs_path))
    root = Path(config.root_dir or Path.cwd()).resolve()
    rel = os.path.relpath(Path(file).resolve(), root)
    if rel.startswith(".."):
        raise FlyteUsageError(f"File '{file}' is outside the project folder {root}; run from the project folder.")
    module = load_file(Path(file), root)
    if task not in tasks_in(module):
        raise FlyteUsageError(f"File '{file}' has no task '{task}'; it has {', '.join(sorted(tasks_in(module)))}.")
    api_client, context_ns = connect(opts.context, opts.kubeconfig)
    api = client.CoreV1Api(api_client)
    namespace = opts.namespace or context_ns
    account = opts.service_account or DEFAULT_ACCOUNT
    try:
        api.read_namespaced_service_account(account, namespace)
    except client.ApiException:
        raise FlyteUsageError(f"ServiceAccount '{account}' does not exist in namespace '{namespace}'; the driver pod "
                              f"runs as it: `flyte kubernetes setup --namespace {namespace}` creates it.") from None
    run = name or "r" + secrets.token_hex(5)
    session = Session(config=config)
    try:
        if session.runs.get_run(run) is not None:
            raise FlyteUsageError(f"A run named '{run}' already exists; choose another name.")
        plugins = session.plugins
    finally:
        session.close()
    import docker

    from flyte_core.imagebuilder import image_builders

    engine = docker.from_env()
    builder = image_builders(plugins).get(opts.image_builder)(
        {"client": engine, "base_image": opts.base_image, "cache_dir": opts.cache_dir, "log": log})
    images = PodImages(builder, engine, opts.registry, log)
    specs = [Image.from_debian_base(), *(env.image_spec or Image.from_debian_base() for env in environments(module))]
    tags = {image_key(spec): images.ensure(spec) for spec in specs}
    store = DataStore(config.data_url)
    state = [config.runs_path, f"{config.runs_path}-wal", f"{config.runs_path}-shm"]
    bundle = str(make_bundle(root, store, exclude=[data, str(flyte_home()), *state]))
    folder = Path(data) / "drivers" / run
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images.json").write_text(json.dumps(tags))
    (folder / "config.yaml").write_text(yaml.safe_dump({
        "backend": "kubernetes", "storage": {"data": config.data_url, "runs": config.runs_path},
        "env_vars": dict(config.env_vars),
        "backends": {"kubernetes": {**{k: v for k, v in raw.items() if k not in _HOST_ONLY}, "namespace": namespace,
                                    "echo": False, "prebuilt_images": str(folder / "images.json")}},
    }))
    pod = driver_pod(run, namespace, account, tags[image_key(Image.from_debian_base())], opts.image_pull_policy,
                     bundle, [data, runs_dir], str(folder / "config.yaml"), [rel, task, *args])
    try:
        api.create_namespaced_pod(namespace, pod)
    finally:
        api_client.close()
    return run, pod["metadata"]["name"], namespace


def driver_pod(run: str, namespace: str, account: str, image: str, pull: str, bundle: str, host_paths: list[str],
               config_path: str, run_args: list[str]) -> dict[str, Any]:
    """The driver pod's manifest: ``flyte run`` of ``run_args`` with the run's config, as ``account``."""
    from flyte_backend_kubernetes.names import dns_name, label_value

    code_dir = f"{CODE_DIR}/{os.path.basename(bundle).split('.')[0][:16]}"
    paths = [p for i, p in enumerate(host_paths)
             if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in host_paths[:i])]
    field = lambda path: {"valueFrom": {"fieldRef": {"fieldPath": path}}}  # noqa: E731
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": dns_name(f"{run}-driver"), "namespace": namespace,
                     "labels": {DRIVER_LABEL: label_value(run)}},
        "spec": {
            "restartPolicy": "Never", "serviceAccountName": account,
            # Room to abort: SIGTERM becomes Ctrl-C, which deletes the run's task pods first.
            "terminationGracePeriodSeconds": 60,
            "containers": [{
                "name": "driver", "image": image, "imagePullPolicy": pull,
                "command": ["python", "-m", "flyte_backend_kubernetes.driver", bundle, code_dir, "run", "--name", run,
                            "--no-progress", *run_args],
                "env": [{"name": "FLYTE_CONFIG", "value": config_path}, {"name": "FLYTE_HOME", "value": "/tmp/flyte"},
                        {"name": "PYTHONUNBUFFERED", "value": "1"}, {"name": "POD_NAME", **field("metadata.name")},
                        {"name": "POD_NAMESPACE", **field("metadata.namespace")}],
                "volumeMounts": [{"name": f"host-{i}", "mountPath": p} for i, p in enumerate(paths)],
            }],
            "volumes": [{"name": f"host-{i}", "hostPath": {"path": p, "type": "Directory"}}
                        for i, p in enumerate(paths)],
        },
    }


def follow(session: Session, run: str, *, namespace: str | None = None, context: str | None = None,
           kubeconfig: str | None = None, show: Callable[[str], None] = print, wait_start: float = 300.0) -> Any:
    """Print the run's log lines as they arrive until it ends; return its record. While the
    driver has not yet recorded the run, its pod is checked so a driver that cannot start is
    reported instead of waited for. Afterwards, make sure the driver pod is gone."""
    api_client, context_ns = connect(context, kubeconfig)
    api = client.CoreV1Api(api_client)
    ns = namespace or context_ns
    pod = _driver_name(run)
    last, started, checked = 0, time.monotonic(), 0.0
    try:
        while True:
            rec = session.get_run(run)
            for seq, line in session.runs.get_logs(run, after=last):
                last = seq
                show(f"[{line.action}] {line.line}")
            if rec is not None and rec.phase.is_terminal:
                break
            if rec is None and time.monotonic() - checked > 2:
                checked = time.monotonic()
                problem = _driver_problem(api, pod, ns)
                if problem or time.monotonic() - started > wait_start:
                    raise FlyteUsageError(f"The driver pod {pod} of run {run} (namespace {ns}) did not start the run: "
                                          f"{problem or f'nothing after {wait_start:g}s'}.")
            time.sleep(0.3)
        _await_gone(api, pod, ns)
        return rec
    finally:
        api_client.close()


def _driver_name(run: str) -> str:
    from flyte_backend_kubernetes.names import dns_name

    return dns_name(f"{run}-driver")


def _driver_problem(api: client.CoreV1Api, pod: str, namespace: str) -> str:
    try:
        obj = api.read_namespaced_pod(pod, namespace)
    except client.ApiException as e:
        return "it does not exist" if e.status == 404 else f"{e.status} {e.reason}"
    status = obj.status
    if status is not None and status.phase in ("Failed", "Succeeded"):
        tail = "\n".join(podops.pod_log(api, pod, namespace, container="driver")[-20:])
        return f"it ended ({status.phase}) before recording the run; its last lines:\n{tail}"
    for cs in (status.container_statuses or []) if status is not None else []:
        waiting = cs.state.waiting if cs.state is not None else None
        if waiting is not None and waiting.reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                                                      "CreateContainerConfigError"):
            return f"{waiting.reason}: {waiting.message}"
    return ""


def _await_gone(api: client.CoreV1Api, pod: str, namespace: str, grace: float = 30.0) -> None:
    """The driver deletes its own pod when its run ends; delete it if it has not by ``grace``."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            api.read_namespaced_pod(pod, namespace)
        except client.ApiException as e:
            if e.status == 404:
                return
        time.sleep(0.5)
    podops.delete_pod(api, pod, namespace)
