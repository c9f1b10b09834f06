"""Durable runs: the top-level task is driven by a pod inside the cluster, so the run goes on
when the terminal that started it closes. :class:`KubernetesLauncher` is the backend's launcher
(``flyte_core.run.launcher``): ``flyte run --backend kubernetes`` uses it, ``--detach`` leaves it,
``flyte runs show RUN --follow`` re-attaches and ``flyte runs abort RUN`` stops it.

Launching does what the driver cannot do itself: it builds the images of the task module's
environments with the local engine (the driver has no Docker), ships the code bundle and the
driver's config through the data store, records the run here (queued) and creates the driver
pod, which runs ``flyte run --local-controller`` in-cluster with the ``flyte-runner``
ServiceAccount (made by ``flyte kubernetes setup``, or here on first use).

Where the run's records live depends on how pods reach the data store: with a hostPath folder
(single-node clusters) the driver shares this machine's run store through a hostPath mount of
its folder; with a remote store the driver keeps its own and publishes copies to the data store,
which :meth:`KubernetesLauncher.sync` imports (see ``snapshot``). Either way ``sync`` also
watches the driver pod, so a driver that cannot start, or vanishes, ends the run visibly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import yaml
from kubernetes import client

from flyte_backend_kubernetes import pods as podops
from flyte_backend_kubernetes import rbac
from flyte_backend_kubernetes.apigate import GATE_URL, TOKEN_DIR, Policy
from flyte_backend_kubernetes.client import GATE_ENV, connect
from flyte_backend_kubernetes.gatepolicy import environments, gate_policy
from flyte_backend_kubernetes.images import PodImages, image_key
from flyte_backend_kubernetes.names import DRIVER_LABEL, dns_name, label_value
from flyte_backend_kubernetes.options import KubeOptions
from flyte_backend_kubernetes.runsetup import DataAccess, data_access
from flyte_backend_kubernetes.snapshot import fetch, import_run
from flyte_core.extend import (
    LAUNCHER_LABEL,
    DataStore,
    ErrorInfo,
    FlyteUsageError,
    Image,
    LaunchRequest,
    Phase,
    RunRecord,
    flyte_home,
    load_file,
    make_bundle,
    tasks_in,
)

if TYPE_CHECKING:
    from flyte_core.extend import Session

#: Run labels: where the driver pod is (``namespace/name``), where its run-store copies go.
DRIVER_RUN_LABEL = "flyte-core.org/driver"
SNAPSHOT_LABEL = "flyte-core.org/snapshot"
CODE_DIR = "/flyte/driver"
#: Inside the driver pod: its own flyte home and, on a remote store, its run store.
DRIVER_HOME = "/tmp/flyte"
#: The unprivileged user the api-gate container runs as.
GATE_UID = 65532
#: Options that name this machine's kubeconfig or terminal, meaningless inside the cluster.
_HOST_ONLY = ("kubeconfig", "context", "echo")
_log = logging.getLogger("flyte")
#: How often ``sync`` looks at the data store and at the driver pod.
SYNC_EVERY = 1.0
POD_CHECK_EVERY = 2.0
#: Reasons a driver pod's container cannot start that will not go away by waiting.
_STUCK = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError")


def driver_name(run: str) -> str:
    """The driver pod's name for ``run``."""
    return dns_name(f"{run}-driver")


@attrs.define
class _Watch:
    """What this process last saw of one launched run."""

    synced: float = 0.0
    checked: float = 0.0
    snapshot_tag: Any = None


class KubernetesLauncher:
    """Launches runs driven by a pod in the cluster (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._import_lock = threading.Lock()
        self._watch: dict[str, _Watch] = {}

    # --- launch ------------------------------------------------------------------------------

    def launch(self, session: Session, request: LaunchRequest) -> RunRecord:
        """Build images, ship code and config, record the run and create its driver pod."""
        config = session.config
        raw = dict(config.backend_options("kubernetes"))
        opts = KubeOptions.parse(raw, config.source)
        access = data_access(config.data_url, opts.data_host_path)
        if request.recover and access.remote:
            raise FlyteUsageError("--recover is not supported for durable runs on a remote data store (the failed "
                                  "run's records live in its driver's run store); recover it with --local-controller "
                                  "and backends.kubernetes.channel_host set.")
        root = Path(config.root_dir or session.root_dir or Path.cwd()).resolve()
        rel = os.path.relpath(Path(request.file).resolve(), root)
        if rel.startswith(".."):
            raise FlyteUsageError(f"File '{request.file}' is outside the project folder {root}; run from the project "
                                  "folder or set root_dir.")
        module = load_file(Path(request.file), root)
        tasks = tasks_in(module)
        if request.task not in tasks:
            raise FlyteUsageError(f"File '{request.file}' has no task '{request.task}'; it has "
                                  f"{', '.join(sorted(tasks))}.")
        api_client, context_ns = connect(opts.context, opts.kubeconfig)
        try:
            api = client.CoreV1Api(api_client)
            namespace = opts.namespace or context_ns
            account = opts.service_account or rbac.DEFAULT_ACCOUNT
            _ensure_account(api_client, api, namespace, account)
            run = request.name or "r" + secrets.token_hex(5)
            pod_name = driver_name(run)
            images = self._build_images(session, opts, access, module)
            store = DataStore(config.data_url)
            state = [config.runs_path, f"{config.runs_path}-wal", f"{config.runs_path}-shm"]
            exclude = [*([access.host_path] if access.host_path else []), str(flyte_home()), *state]
            bundle = str(make_bundle(root, store, exclude=exclude))
            folder = store.url("drivers", run)
            labels = {**request.labels, LAUNCHER_LABEL: "kubernetes", DRIVER_RUN_LABEL: f"{namespace}/{pod_name}"}
            if access.remote:
                labels[SNAPSHOT_LABEL] = f"{folder}/runs.db"
            runs_path = config.runs_path if access.host_path else f"{DRIVER_HOME}/runs.db"
            if access.host_path:
                _check_runs_folder(runs_path)
            store.put_bytes(f"drivers/{run}/images.json", json.dumps(images).encode())
            store.put_bytes(f"drivers/{run}/config.yaml", yaml.safe_dump({
                "backend": "kubernetes", "storage": {"data": config.data_url, "runs": runs_path},
                "env_vars": {**config.env_vars, **request.env_vars},
                "backends": {"kubernetes": {**{k: v for k, v in raw.items() if k not in _HOST_ONLY},
                                            "namespace": namespace, "echo": False,
                                            "prebuilt_images": f"{folder}/images.json"}},
            }).encode())
            argv = ["--local-controller", "--no-progress", "--name", run,
                    *(x for k, v in labels.items() for x in ("--label", f"{k}={v}")),
                    *(["--overwrite-cache"] if request.overwrite_cache else []),
                    *(["--recover", request.recover] if request.recover else []), rel, request.task,
                    *request.inputs]
            record = RunRecord(name=run, task=tasks[request.task].name, phase=Phase.QUEUED, backend="kubernetes",
                               created_at=time.time(), host=f"pod/{namespace}/{pod_name}", labels=labels)
            session.runs.put_run(record)
            # a manifest dict: the client sends it as is (its hints ask for a V1Pod)
            policy = gate_policy(module, opts, account, [access.host_path] if access.host_path else [], api,
                                 namespace)
            pod: Any = driver_pod(run, namespace, account, images[image_key(Image.from_debian_base())],
                                  opts.image_pull_policy, bundle, folder, access, runs_path, opts.data_secret, argv,
                                  policy)
            try:
                api.create_namespaced_pod(namespace, pod)
            except client.ApiException as e:
                self._end(session, record, Phase.FAILED, "DriverPodError",
                          f"The cluster refused the driver pod {pod_name} ({e.status} {e.reason}).")
                raise FlyteUsageError(f"The cluster refused the driver pod {pod_name} of run {run} in namespace "
                                      f"{namespace}: {e.status} {e.reason} {e.body or ''}".strip()) from None
        finally:
            api_client.close()
        return record

    def _build_images(self, session: Session, opts: KubeOptions, access: DataAccess, module: Any) -> dict[str, str]:
        """Build (and push) the images of the module's environments; ``image_key`` -> reference."""
        import docker

        from flyte_core.extend import image_builders

        engine = docker.from_env()
        try:
            log = _build_progress
            builder = image_builders(session.plugins).get(opts.image_builder)(
                {"client": engine, "base_image": opts.base_image, "cache_dir": opts.cache_dir, "log": log})
            images = PodImages(builder, engine, opts.registry, log, packages=access.packages, push=opts.push_images)
            specs = [Image.from_debian_base(), *(env.image_spec or Image.from_debian_base()
                                                 for env in environments(module))]
            return {image_key(spec): images.ensure(spec) for spec in specs}
        finally:
            engine.close()

    # --- follow ------------------------------------------------------------------------------

    def sync(self, session: Session, run: RunRecord) -> None:
        """Import the driver's latest run-store copy (remote stores) and check the driver pod;
        at most once a second per run, so followers may call this in a tight loop."""
        with self._lock:
            watch = self._watch.setdefault(run.name, _Watch())
            now = time.monotonic()
            if now - watch.synced < SYNC_EVERY:
                return
            watch.synced = now
        # An unreachable store or cluster must not break `flyte runs list`: the records stay as
        # they were, and the next read tries again.
        try:
            self._import(session, run, watch)
            rec = session.runs.get_run(run.name) or run
            if rec.phase.is_terminal or now - watch.checked < POD_CHECK_EVERY:
                return
            watch.checked = now
            gone = self._driver_problem(session, rec)
            if gone is None:
                return
            self._import(session, rec, watch)  # the driver's last words may have arrived meanwhile
        except Exception as e:
            _log.warning("Could not bring run %s up to date: %s: %s", run.name, type(e).__name__, e)
            return
        rec = session.runs.get_run(run.name) or rec
        if not rec.phase.is_terminal:
            phase, code, message = gone
            self._end(session, rec, phase, code, message)

    def _import(self, session: Session, run: RunRecord, watch: _Watch) -> None:
        url = run.labels.get(SNAPSHOT_LABEL)
        if not url:
            return  # hostPath: the driver writes this machine's run store itself
        # One import at a time: two threads (the UI's) appending the same new lines would double them.
        with self._import_lock:
            self._import_latest(session, run, watch, url)

    def _import_latest(self, session: Session, run: RunRecord, watch: _Watch, url: str) -> None:
        import fsspec

        fs, path = fsspec.core.url_to_fs(url)
        fs.invalidate_cache(path)  # object-store filesystems may answer from a listing they cached
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return
        tag = (info.get("ETag") or info.get("etag") or info.get("mtime") or info.get("LastModified"), info.get("size"))
        if tag == watch.snapshot_tag:
            return
        with tempfile.TemporaryDirectory(prefix="flyte-snap-") as tmp:
            local = os.path.join(tmp, "runs.db")
            if fetch(url, local) and import_run(session.runs, local, run.name, _launch_labels(run)):
                watch.snapshot_tag = tag

    def _driver_problem(self, session: Session, run: RunRecord) -> tuple[Phase, str, str] | None:
        """How the run ended when its driver can no longer end it (else None)."""
        with _driver_api(session, run) as (api, namespace, pod):
            try:
                obj = api.read_namespaced_pod(pod, namespace, _request_timeout=15)
            except client.ApiException as e:
                if e.status == 404 and run.abort_requested:
                    return (Phase.ABORTED, "RunAbortedError", f"Run {run.name} was aborted before its driver pod "
                            f"{pod} recorded it.")
                if e.status == 404:
                    return (Phase.INTERRUPTED, "DriverPodGone",
                            f"The driver pod {pod} (namespace {namespace}) of run {run.name} is gone; the run cannot "
                            "go on.")
                return None  # the API is unwell: ask again later rather than end a live run
            status = obj.status
            statuses = (status.container_statuses or []) if status is not None else []
            # The driver container may end before the pod does (its API gate still serving).
            ended = next((cs.state.terminated for cs in statuses
                          if cs.name == "driver" and cs.state is not None and cs.state.terminated), None)
            if status is not None and (status.phase in ("Failed", "Succeeded") or ended is not None):
                how = f"exit code {ended.exit_code}" if ended is not None else status.phase
                tail = "\n".join(podops.pod_log(api, pod, namespace, container="driver")[-20:])
                return (Phase.FAILED, "DriverPodError",
                        f"The driver pod {pod} of run {run.name} ended ({how}) before the run did; its last "
                        f"lines:\n{tail}")
            for cs in statuses:
                waiting = cs.state.waiting if cs.state is not None else None
                if waiting is not None and waiting.reason in _STUCK:
                    podops.delete_pod(api, pod, namespace)
                    return (Phase.FAILED, "DriverPodError",
                            f"The driver pod {pod} of run {run.name} cannot start: {waiting.reason}: {waiting.message}")
            return None

    @staticmethod
    def _end(session: Session, run: RunRecord, phase: Phase, code: str, message: str) -> None:
        session.runs.put_run(attrs.evolve(run, phase=phase, ended_at=time.time(),
                                          error=ErrorInfo(code, "system", message)))

    # --- abort -------------------------------------------------------------------------------

    def abort(self, session: Session, run: RunRecord) -> None:
        """Delete the driver pod gracefully: it aborts the run (deleting its task pods) and,
        on a remote store, publishes the final state before it goes."""
        with _driver_api(session, run) as (api, namespace, pod):
            try:
                api.delete_namespaced_pod(pod, namespace)
            except client.ApiException as e:
                if e.status != 404:
                    raise FlyteUsageError(f"Could not delete the driver pod {pod} of run {run.name}: {e.status} "
                                          f"{e.reason}.") from None


@contextlib.contextmanager
def _driver_api(session: Session, run: RunRecord) -> Iterator[tuple[client.CoreV1Api, str, str]]:
    """An API client of the session's cluster, with the namespace and name of ``run``'s driver pod."""
    namespace, _, pod = run.labels.get(DRIVER_RUN_LABEL, "").partition("/")
    opts = KubeOptions.parse(session.config.backend_options("kubernetes"), session.config.source)
    api_client, _ = connect(opts.context, opts.kubeconfig)
    try:
        yield client.CoreV1Api(api_client), namespace, pod
    finally:
        api_client.close()


def _launch_labels(run: RunRecord) -> dict[str, str]:
    return {k: v for k, v in run.labels.items() if k in (LAUNCHER_LABEL, DRIVER_RUN_LABEL, SNAPSHOT_LABEL)}


def _build_progress(line: str) -> None:
    # Image builds say a lot; one line per build, push or pull is enough on a terminal.
    if line.startswith(("Building", "Pushing", "Pulling")):
        import sys

        print(line, file=sys.stderr, flush=True)


def _check_runs_folder(runs_path: str) -> None:
    """The driver pod mounts the run store's folder; refuse one that holds the local secret store."""
    from flyte_core.extend import LocalSecretStore

    secrets_file = LocalSecretStore().path
    if secrets_file.exists() and secrets_file.parent.resolve() == Path(runs_path).resolve().parent:
        raise FlyteUsageError(
            f"The run store {runs_path} shares its folder with your local secret store ({secrets_file}), and a "
            "durable run's driver pod mounts that folder; set storage.runs to a file in a folder of its own.")


def _ensure_account(api_client: client.ApiClient, api: client.CoreV1Api, namespace: str, account: str) -> None:
    """The driver's ServiceAccount and its Role: made here on first use when this user may."""
    try:
        api.read_namespaced_service_account(account, namespace)
        return
    except client.ApiException as e:
        if e.status != 404:
            raise FlyteUsageError(f"Cannot read ServiceAccount '{account}' in namespace '{namespace}': {e.status} "
                                  f"{e.reason}.") from None
    try:
        rbac.apply(api_client, rbac.manifests(namespace, account))
    except client.ApiException as e:
        raise FlyteUsageError(
            f"ServiceAccount '{account}' does not exist in namespace '{namespace}' and creating it was refused "
            f"({e.status} {e.reason}); ask a cluster admin to apply `flyte kubernetes rbac --namespace {namespace}`."
        ) from None


def driver_pod(run: str, namespace: str, account: str, image: str, pull: str, bundle: str, folder: str,
               access: DataAccess, runs_path: str, data_secret: str | None, run_args: list[str],
               policy: Policy | None = None) -> dict[str, Any]:
    """The driver pod's manifest: ``flyte run`` of ``run_args`` with the config in ``folder``
    (of the data store), as ``account``.

    Two containers: ``driver`` runs ``flyte run`` (which imports the task modules) without the
    ServiceAccount token; ``api-gate`` alone has the token, and forwards the driver's API requests
    that flyte-core makes, checking the pods it creates against ``policy`` (see ``apigate``,
    ``gatepolicy``; None: the strictest, non-root task pods with no Secret but ``data_secret``)."""
    if policy is None:
        policy = Policy(account=account, host_roots=[access.host_path] if access.host_path else [],
                        secrets=[data_secret] if data_secret else [])
    code_dir = f"{CODE_DIR}/{os.path.basename(bundle).split('.')[0][:16]}"
    host_paths = [access.host_path, os.path.dirname(os.path.abspath(runs_path))] if access.host_path else []
    paths = [p for i, p in enumerate(host_paths)
             if p and not any(p == q or p.startswith(str(q).rstrip("/") + "/") for q in host_paths[:i])]
    def field(path: str) -> dict[str, Any]:
        return {"valueFrom": {"fieldRef": {"fieldPath": path}}}

    container: dict[str, Any] = {
        "name": "driver", "image": image, "imagePullPolicy": pull,
        "command": ["python", "-m", "flyte_backend_kubernetes.driver", bundle, code_dir, folder, "run", *run_args],
        "env": [{"name": "FLYTE_HOME", "value": DRIVER_HOME}, {"name": "PYTHONUNBUFFERED", "value": "1"},
                {"name": "POD_NAME", **field("metadata.name")},
                {"name": "POD_NAMESPACE", **field("metadata.namespace")}, {"name": "POD_IP", **field("status.podIP")},
                {"name": GATE_ENV, "value": GATE_URL}],
        "volumeMounts": [{"name": f"host-{i}", "mountPath": p} for i, p in enumerate(paths)],
        # Root (it writes the run store and hands data folders to the task pods' user), with only
        # the capabilities for that.
        "securityContext": {"allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"], "add": ["CHOWN", "DAC_OVERRIDE", "FOWNER"]}},
    }
    if access.remote:
        container["env"].append({"name": "FLYTE_SNAPSHOT_DB", "value": runs_path})
    if data_secret:
        container["envFrom"] = [{"secretRef": {"name": data_secret}}]
    gate: dict[str, Any] = {
        "name": "api-gate", "image": image, "imagePullPolicy": pull, "workingDir": "/",
        # The policy is part of the pod's spec: nothing in the driver container can change it.
        "command": ["python", "-m", "flyte_backend_kubernetes.apigate", policy.to_json()],
        "env": [{"name": "PYTHONUNBUFFERED", "value": "1"}, {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}],
        "volumeMounts": [{"name": "api-token", "mountPath": TOKEN_DIR, "readOnly": True}],
        "securityContext": {"runAsNonRoot": True, "runAsUser": GATE_UID, "runAsGroup": GATE_UID,
                            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                            "readOnlyRootFilesystem": True},
    }
    token = {"name": "api-token", "projected": {"defaultMode": 0o444, "sources": [
        {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
    ]}}
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": driver_name(run), "namespace": namespace, "labels": {DRIVER_LABEL: label_value(run)}},
        "spec": {
            "restartPolicy": "Never", "serviceAccountName": account,
            # The token goes to the api-gate container only (the "api-token" volume).
            "automountServiceAccountToken": False,
            # Room to abort: SIGTERM becomes Ctrl-C, which deletes the run's task pods first.
            "terminationGracePeriodSeconds": 60,
            "containers": [container, gate],
            "volumes": [*({"name": f"host-{i}", "hostPath": {"path": p, "type": "Directory"}}
                          for i, p in enumerate(paths)), token],
        },
    }


def load_config_for_driver(folder: str) -> str:
    """Inside the driver: copy the run's config from the data store to a local file; its path."""
    import fsspec

    local = os.path.join(DRIVER_HOME, "config.yaml")
    os.makedirs(DRIVER_HOME, exist_ok=True)
    with fsspec.open(f"{folder}/config.yaml", "rb") as src, open(local, "wb") as out:
        out.write(src.read())
    return local

