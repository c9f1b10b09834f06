"""The ``kubernetes`` backend: every action attempt runs in its own pod (restartPolicy Never).

The controller runs in this process (as for the docker backend; in a durable run, this process
is the driver pod). Per run: images are built by the image builder (and pushed when a registry
is configured), and the project ships as one content-addressed code bundle through the data
store. Pods reach the data store one of two ways (see ``runsetup.data_access``): a folder
mounted with ``hostPath`` on single-node clusters, where the run's channel (nested task calls)
listens on a socket inside that folder; or a remote fsspec store (s3://, gs://, ...), where
the channel listens on TCP at an address pods reach (the driver pod's IP). Each attempt's worker
spec (with its channel token), outcome and stream-tagged log go through the data store, in a folder
of the attempt's own, ``<data>/k8s/<run>/<action>-<attempt>/``, outside the run's folder.

With a hostPath store a task pod mounts only what its attempt needs (a
:class:`~flyte_core.extend.StoreView`, as docker containers): its run's folder and the runs it
recovers read-only, its own folders writable (see :mod:`~flyte_backend_kubernetes.confinement`), its
attempt folder, the channel's folder and the code bundle; a value from elsewhere in the store is
imported into the run's ``imports/`` folder when the controller hands it over.
Pod states come from one resumable watch per run (see ``watch``) and are judged by ``failures``.
A pod is deleted as soon as its outcome and logs are collected (or kept for
``keep_pods_seconds``), and :meth:`KubernetesBackend.close` deletes every pod of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from kubernetes import client

from flyte_backend_kubernetes import pods as podops
from flyte_backend_kubernetes.client import check_access, connect
from flyte_backend_kubernetes.confinement import PodMounts, confinement, pod_mounts, task_ids, writable
from flyte_backend_kubernetes.failures import (
    Graces,
    PodAssessor,
    RunProgress,
    Verdict,
    crashed_error,
    oom_error,
    timeout_error,
)
from flyte_backend_kubernetes.images import PodImages, PrebuiltImages
from flyte_backend_kubernetes.names import CONTROLLER_ANNOTATION, pod_name, run_selector
from flyte_backend_kubernetes.options import KubeOptions
from flyte_backend_kubernetes.podspec import PodRequest, build_pod, image_pull_secrets
from flyte_backend_kubernetes.rawtask import execute_raw
from flyte_backend_kubernetes.resources import describe_memory
from flyte_backend_kubernetes.runsetup import DataAccess, bundle_for, data_access, resolve_template
from flyte_backend_kubernetes.secrets import missing_secrets_hint
from flyte_backend_kubernetes.watch import PodWatcher
from flyte_core.extend import (
    CHANNEL_PATH_LIMIT,
    ActionOutcome,
    ActionSpec,
    BackendRun,
    ChannelServer,
    ErrorInfo,
    FlyteUsageError,
    RawContainerTask,
    StoreView,
    WorkerSpec,
    image_builders,
    is_nested_function,
    read_outcome,
    task_ref,
    worker_spec,
)

#: Inside pods, where the code bundle is unpacked.
CODE_DIR = "/flyte/code"
TAIL_LINES = 20


class _Attempt:
    """What the watch has told about one attempt's pod."""

    def __init__(self, assessor: PodAssessor) -> None:
        self.assessor = assessor
        self.pod: dict[str, Any] | None = None
        self.deleted = False
        #: The worker said its outcome and log are written (the pod may not have ended yet).
        self.finished = False
        self.changed = asyncio.Event()


class KubernetesBackend:
    """The ``kubernetes`` backend; options are :class:`~flyte_backend_kubernetes.options.KubeOptions`."""

    name = "kubernetes"
    honours = frozenset({"timeout", "env_vars", "resources", "image", "secrets", "pod_template", "service_account"})

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.opts = KubeOptions.parse(options)
        self.namespace = self.opts.namespace or "default"
        self._run: BackendRun | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._api: client.CoreV1Api | None = None
        self._watcher: PodWatcher | None = None
        self._server: ChannelServer | None = None
        self._images: PodImages | PrebuiltImages | None = None
        self._docker: Any = None
        self._access = DataAccess(root="")
        self._dir = ""
        self._bundle = "-"
        self._bundle_dir = CODE_DIR
        #: What of a hostPath data store pods see (None: a remote store).
        self._view: StoreView | None = None
        #: The folder of the channel's socket (hostPath stores), which every task pod mounts read-only.
        self._channel_dir: str | None = None
        self._channel_path = ""
        self._short_socket_dir: str | None = None
        self._live: dict[str, int] = {}
        self._attempts: dict[str, _Attempt] = {}
        #: When a pod of the run last started or ended: a pod queued for room waits while it moves.
        self._progress = RunProgress()
        self._templates: dict[str, Any] = {}
        #: The user and group confined task pods run as.
        self._ids = self.opts.security.uid_gid

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, run: BackendRun) -> None:
        """Check the cluster and the data store, prune leftovers, start the watch and the
        channel, prepare images and ship the code."""
        self._run = run
        self._loop = asyncio.get_running_loop()
        store = run.conversion.store
        if store is None:
            raise FlyteUsageError("The kubernetes backend needs a data store; configure storage.data.")
        self._access = data_access(store.root, self.opts.data_host_path)
        self._ids = task_ids(self.opts.security, self._access.host_path)
        channel_host = self._channel_host()
        api_client, context_ns = await asyncio.to_thread(connect, self.opts.context, self.opts.kubeconfig)
        self.namespace = self.opts.namespace or context_ns
        self._api = client.CoreV1Api(api_client)
        await asyncio.to_thread(check_access, self._api, self.namespace)
        await asyncio.to_thread(podops.prune, self._api, self.namespace)
        if self._access.host_path is not None:
            # The attempts' own folders go here: only the controller reads the folder itself.
            self._dir = os.path.join(self._access.host_path, "k8s", run.run_name)
            await asyncio.to_thread(_private_folder, self._dir)
            self._view = StoreView.of_run(self._access.host_path, run.settings.run_base_dir,
                                          run.settings.recovered_run_dirs)
        else:
            self._dir = store.url("k8s", run.run_name)
        self._watcher = PodWatcher(self._api.list_namespaced_pod, self.namespace, run_selector(run.run_name),
                                   self._on_event)
        await asyncio.to_thread(self._watcher.start)
        self._server = ChannelServer(run.controller, is_running=lambda a, n: self._live.get(a) == n,
                                     code_root=run.settings.code_root, import_missing=False, tcp_host=channel_host,
                                     socket_dir=self._socket_dir(run.run_name) if self._access.host_path else None,
                                     on_finished=self._on_finished,
                                     outputs_for=self._view.outputs_for if self._view is not None else None)
        await self._server.start()
        self._channel_path = self._server.path
        if self._access.host_path is not None:
            self._channel_dir = os.path.dirname(self._channel_path)
        self._images = await asyncio.to_thread(self._image_source, run)
        self._bundle = await asyncio.to_thread(bundle_for, run, store)
        self._bundle_dir = f"{CODE_DIR}/{os.path.basename(self._bundle).split('.')[0][:16]}"

    def _channel_host(self) -> str | None:
        """Where task pods reach the channel over TCP (remote stores); None for a socket in the
        hostPath data folder."""
        if not self._access.remote:
            return None
        host = self.opts.channel_host or os.environ.get("POD_IP")
        if not host:
            raise FlyteUsageError(
                f"With the remote data store {self._access.root}, task pods reach the run's controller over the "
                "network, and this process is not in a pod: start the run with `flyte run --backend kubernetes` "
                "(a driver pod in the cluster drives it), or set backends.kubernetes.channel_host to an address "
                "of this machine that pods can reach.")
        return host

    def _socket_dir(self, run_name: str) -> str:
        """Where the channel's unix socket goes: inside the hostPath data folder, so pods (and a driver
        pod, whose /tmp is its own) reach it; in a folder of its own (pods mount it, and see nothing
        else there), named by a hash of the run so the socket's path fits the unix limit (about 100 bytes)."""
        assert self._access.host_path is not None
        short = os.path.join(self._access.host_path, "ch", hashlib.sha256(run_name.encode()).hexdigest()[:10])
        if len(os.path.join(short, "channel.sock").encode()) > CHANNEL_PATH_LIMIT:
            raise FlyteUsageError(
                f"The data folder {self._access.host_path} is too long a path for the channel's unix socket "
                f"(at most {CHANNEL_PATH_LIMIT - 27} characters); use a shorter storage.data folder.")
        os.makedirs(short, mode=0o755, exist_ok=True)
        self._short_socket_dir = short
        return short

    async def execute(self, spec: ActionSpec) -> ActionOutcome:
        """Run one attempt in a fresh pod and wait for it (at most ``spec.timeout``)."""
        assert self._run is not None and self._api is not None and self._images is not None
        if spec.task is None:
            raise FlyteUsageError(f"Action {spec.action} has no task object to run.")
        if isinstance(spec.task, RawContainerTask):
            return await execute_raw(self, spec, spec.task)
        if is_nested_function(spec.task):
            return _refused(spec, f"it is defined inside a function ({spec.task.func.__qualname__}); a pod can "
                                  "only import tasks defined at module level")
        image_spec = spec.task.env.image_spec
        image = await asyncio.to_thread(self._images.ensure, image_spec)
        template = await asyncio.to_thread(self._template, spec.task.pod_template)
        name = pod_name(spec.run_name, spec.action, spec.attempt)
        # The attempt's own folder: its spec (with its channel token), outcome and log; only its pod mounts it.
        folder = f"{self._dir}/{spec.action}-{spec.attempt}"
        paths = {k: f"{folder}/{k}" for k in ("spec.json", "outcome.json", "log.jsonl")}
        ws = worker_spec(spec, task=task_ref(spec.task, spec.code_root), outcome_path=paths["outcome.json"],
                         conversion=self._run.conversion, channel_path=self._channel_path,
                         channel_token=self._server.token_for(spec.action, spec.attempt) if self._server else None,
                         code_root=self._bundle_dir)
        # The code folder itself is the scratch volume: as the pod's working directory, a folder
        # inside the volume would be made by the runtime, as root.
        confined = confinement(self.opts.security, self._ids, spec.task.env.name, scratch=[self._bundle_dir])
        ws, mounts = await asyncio.to_thread(self._placed, spec, ws, folder, confined is not None)
        ws.write(paths["spec.json"])
        req = PodRequest(
            name=name, namespace=self.namespace, run=spec.run_name, action=spec.action, attempt=spec.attempt,
            task=spec.task_name, image=image,
            command=["python", "-m", "flyte_backend_kubernetes.worker", self._bundle, self._bundle_dir,
                     paths["spec.json"], paths["log.jsonl"]],
            working_dir=self._bundle_dir, env={**spec.env_vars, "PYTHONUNBUFFERED": "1"},
            env_from_secrets=[self.opts.data_secret] if self.opts.data_secret else [],
            secrets=spec.task.env.secrets, resources=spec.task.env.resources, timeout=spec.timeout,
            host_paths=mounts.read_only, writable_paths=mounts.writable, host_files=mounts.files,
            pull_policy=self.opts.image_pull_policy,
            image_pull_secrets=image_pull_secrets(image_spec), confinement=confined, environment=spec.task.env.name,
            service_account=self.opts.service_account, pod_template=template,
            annotations={CONTROLLER_ANNOTATION: podops.controller_id()},
            gpu_resource=self.opts.gpu_resource, gpu_node_label=self.opts.gpu_node_label,
        )
        secrets = spec.task.env.secrets
        att = _Attempt(PodAssessor(
            pod=name, namespace=self.namespace, action=spec.action, task=spec.task_name, image=image,
            timeout=spec.timeout, graces=Graces(self.opts.image_pull_grace, self.opts.unschedulable_grace,
                                                self.opts.start_grace),
            hint=lambda files_only: missing_secrets_hint(secrets, self.namespace, files_only),
            progress=self._progress))
        self._attempts[name] = att
        self._live[spec.action] = spec.attempt
        finished = False
        try:
            created = await self._create(build_pod(req), spec)
            if created is not None:
                return created
            verdict = await self._wait(att, spec)
            finished = verdict.error is None or verdict.error.code != "TaskTimeoutError"
            tail = await self._collect_logs(spec, name, paths["log.jsonl"], started=verdict.exit_code is not None)
            return self._outcome(spec, name, verdict, paths["outcome.json"], tail)
        finally:
            self._live.pop(spec.action, None)
            await asyncio.shield(self._cleanup(spec, name, [folder], keep=finished))
            if mounts.writable:  # its own two store folders, made for it: left alone once they hold something
                await asyncio.to_thread(_remove_empty, mounts.writable[1:3])

    def _placed(self, spec: ActionSpec, ws: WorkerSpec, folder: str, confined: bool) -> tuple[WorkerSpec, PodMounts]:
        """``ws`` with its inputs made visible to the pod (values from elsewhere in a hostPath store
        imported into the run's folder), and what of the store the pod mounts (see
        :func:`~flyte_backend_kubernetes.confinement.pod_mounts`), its writable folders made and given
        to the task user when confined. With a remote store, nothing."""
        host = self._access.host_path
        if host is None or self._view is None:
            return ws, PodMounts((), (), ())
        ws = attrs.evolve(ws, inputs=self._view.literals(ws.inputs))
        mounts = pod_mounts(self._view, host, action=spec.action, data_prefix=ws.data_prefix,
                            raw_data_path=ws.raw_data_path, attempt_folder=folder, channel_dir=self._channel_dir,
                            bundle=self._bundle)
        return ws, attrs.evolve(mounts, writable=tuple(writable(mounts.writable, self._ids if confined else None)))

    def execute_inline(self, spec: ActionSpec) -> ActionOutcome | None:
        """Never: every attempt gets its own pod."""
        return None

    def blocked(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to lend: no task body waits in this process."""
        return contextlib.nullcontext()

    async def close(self) -> None:
        """Delete every pod of the run (but those kept for debugging), stop the watch and the
        channel, and remove the run's spec folder."""
        if self._api is not None and self._run is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(podops.delete_run, self._api, self.namespace, self._run.run_name,
                                        self.opts.keep_pods_seconds > 0)
        if self._watcher is not None:
            await asyncio.to_thread(self._watcher.stop)
            self._watcher = None
        if self._server is not None:
            await self._server.close()
            self._server = None
        if self._dir:  # the attempts' folders
            await asyncio.to_thread(self._remove, [self._dir], True)
        if self._short_socket_dir:
            await asyncio.to_thread(shutil.rmtree, self._short_socket_dir, True)
        if self._docker is not None:
            self._docker.close()
            self._docker = None
        if self._api is not None:
            self._api.api_client.close()
            self._api = None

    # --- events ------------------------------------------------------------------------------

    def _on_event(self, kind: str, pod: dict[str, Any]) -> None:
        """From the watch thread: hand the event to the run's loop."""
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop stopped meanwhile
                self._loop.call_soon_threadsafe(self._dispatch, kind, pod)

    def _dispatch(self, kind: str, pod: dict[str, Any]) -> None:
        att = self._attempts.get((pod.get("metadata") or {}).get("name", ""))
        if att is None:
            return
        if kind == "DELETED":
            att.deleted = True
        else:
            att.pod = pod
        att.changed.set()

    def _on_finished(self, action: str, attempt: int) -> None:
        """From the channel (on the run's loop): the worker's outcome and log are written."""
        assert self._run is not None
        att = self._attempts.get(pod_name(self._run.run_name, action, attempt))
        if att is not None:
            att.finished = True
            att.changed.set()

    async def _wait(self, att: _Attempt, spec: ActionSpec) -> Verdict:
        """Until the pod's verdict, or the controller's own deadline (the kubelet's plus a grace)."""
        deadline = time.monotonic() + spec.timeout + self.opts.deadline_grace if spec.timeout else None
        while True:
            if att.finished:  # the worker's word: no need to wait for the kubelet to report the end
                att.assessor.progress.advance(time.monotonic())
                return Verdict(exit_code=0, reason="Finished")
            if att.pod is not None or att.deleted:
                verdict = att.assessor.assess(None if att.deleted else att.pod, time.monotonic())
                if verdict is not None:
                    return verdict
            wake = [t for t in (deadline, att.assessor.next_check()) if t is not None]
            att.changed.clear()
            try:
                await asyncio.wait_for(att.changed.wait(), max(0.0, min(wake) - time.monotonic()) if wake else None)
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    return Verdict(error=timeout_error(spec.task_name, spec.action, spec.timeout,
                                                       att.assessor.pod), reason="TaskTimeoutError")

    # --- steps of an attempt -----------------------------------------------------------------

    async def _create(self, manifest: Any, spec: ActionSpec) -> ActionOutcome | None:
        """Create the pod; an outcome only when the API refused it."""
        assert self._api is not None
        name = manifest["metadata"]["name"]
        for _ in range(2):
            try:
                await asyncio.to_thread(self._api.create_namespaced_pod, self.namespace, manifest)
                return None
            except client.ApiException as e:
                if e.status == 409:  # a leftover of an earlier controller of this run: replace it
                    await asyncio.to_thread(podops.delete_pod, self._api, name, self.namespace)
                    continue
                kind = "user" if e.status in (400, 422) else "system"
                return ActionOutcome(error=ErrorInfo(
                    "PodCreateError", kind, f"Task '{spec.task_name}' (action {spec.action}): the cluster refused "
                    f"its pod {name} ({e.status} {e.reason}: {_api_message(e)}).", action=spec.action),
                    final=kind == "user")
        return ActionOutcome(error=ErrorInfo("PodCreateError", "system", f"Pod {name} already exists.",
                                             action=spec.action))

    async def _collect_logs(self, spec: ActionSpec, name: str, log_path: str, started: bool) -> list[str]:
        """Send what the pod printed to the run's logs; return the last lines."""
        assert self._run is not None and self._api is not None
        lines = await asyncio.to_thread(podops.tagged_log, log_path)
        if lines is None and started:  # the worker never got to keep its copy: ask the API
            lines = [("stdout", t) for t in await asyncio.to_thread(podops.pod_log, self._api, name, self.namespace)]
        for stream, text in lines or []:
            self._run.log(spec.action, spec.attempt, stream, text)
            if self.opts.echo:
                with contextlib.suppress(Exception):
                    (sys.stdout if stream == "stdout" else sys.stderr).write(text + "\n")
        return [text for _, text in (lines or [])[-TAIL_LINES:]]

    def _outcome(self, spec: ActionSpec, name: str, verdict: Verdict, outcome_path: str,
                 tail: list[str]) -> ActionOutcome:
        if verdict.error is not None:
            return ActionOutcome(error=verdict.error)
        try:
            outcome = read_outcome(outcome_path)  # a path, or a URL of a remote store
        except FileNotFoundError:
            pass
        else:
            if outcome.error is not None and outcome.error.action is None:
                outcome = attrs.evolve(outcome, error=attrs.evolve(outcome.error, action=spec.action))
            return outcome
        assert spec.task is not None
        if verdict.oom:
            return ActionOutcome(error=oom_error(spec.task_name, spec.action, name,
                                                 describe_memory(spec.task.env.resources), tail))
        return ActionOutcome(error=crashed_error(spec.task_name, spec.action, spec.attempt, name, verdict, tail))

    async def _cleanup(self, spec: ActionSpec, name: str, files: list[str], keep: bool) -> None:
        assert self._api is not None
        if self._server is not None:
            await self._server.release(spec.action)
        try:
            if keep and self.opts.keep_pods_seconds > 0:
                await asyncio.to_thread(podops.keep_pod, self._api, name, self.namespace, self.opts.keep_pods_seconds)
            else:
                await asyncio.to_thread(podops.delete_pod, self._api, name, self.namespace)
        finally:
            self._attempts.pop(name, None)
            await asyncio.to_thread(self._remove, files, True)

    def _remove(self, paths: list[str], recursive: bool = False) -> None:
        """Delete paths (or URLs) of the data store: the run's attempts' folders, or one of them."""
        store = self._run.conversion.store if self._run is not None else None
        for path in paths:
            with contextlib.suppress(Exception):  # FileNotFoundError, or the store's own errors
                if store is not None:
                    store.rm(path, recursive)

    def _image_source(self, run: BackendRun) -> PodImages | PrebuiltImages:
        if self.opts.prebuilt_images:  # a driver pod: images were built by whoever launched it
            import fsspec

            with fsspec.open(self.opts.prebuilt_images, "r", encoding="utf-8") as f:
                return PrebuiltImages(json.load(f))
        import docker

        self._docker = docker.from_env()
        builder = image_builders(run.plugins).get(self.opts.image_builder)(
            {"client": self._docker, "base_image": self.opts.base_image, "cache_dir": self.opts.cache_dir,
             "log": self._build_log})
        return PodImages(builder, self._docker, self.opts.registry, self._build_log, packages=self._access.packages,
                         push=self.opts.push_images)

    def _template(self, template: Any) -> Any:
        if isinstance(template, str):  # the name of a PodTemplate object in the namespace
            if template not in self._templates:
                assert self._api is not None
                self._templates[template] = resolve_template(self._api, template, self.namespace)
            return self._templates[template]
        return template

    def _build_log(self, line: str) -> None:
        if self._run is not None:
            self._run.log("a0", 0, "build", line)


def _private_folder(path: str) -> None:
    """Make ``path`` (the run's attempts' folders go in it) readable by this process's user only."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def _remove_empty(folders: Sequence[str]) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _api_message(e: client.ApiException) -> str:
    try:
        return str(json.loads(e.body or "{}").get("message") or e.body)
    except ValueError:
        return str(e.body)


def _refused(spec: ActionSpec, why: str) -> ActionOutcome:
    return ActionOutcome(error=ErrorInfo("ModuleLoadError", "user", f"Task '{spec.task_name}' cannot run in a "
                                         f"pod: {why}.", action=spec.action), final=True)
