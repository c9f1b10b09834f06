"""The pod manifest of one attempt: pure data in, a JSON-ready dict out (no API calls), so the
manifest can be tested without a cluster and is exactly what the API server receives."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from flyte_backend_kubernetes import names
from flyte_backend_kubernetes.resources import container_resources, gpu_node_selector, shm_volume
from flyte_backend_kubernetes.secrets import secret_refs
from flyte_backend_kubernetes.template import merge_pod, primary_name, template_parts
from flyte_core.extend import Image, Resources

#: Scratch folders of a confined pod (``readOnlyRootFilesystem``): temporary files and ``$HOME``.
TMP_DIR = "/tmp"


@attrs.frozen
class Confinement:
    """How a task pod is confined (see docs/security.md): its user and group (never root), and
    whether its root filesystem is read-only. ``scratch`` folders get an ``emptyDir`` each, writable
    by that user (``/tmp`` always; the code folder the worker unpacks into)."""

    uid: int
    gid: int
    read_only_root: bool = True
    scratch: Sequence[str] = ()


@attrs.frozen
class PodRequest:
    """What the backend decided about one attempt's pod."""

    name: str
    namespace: str
    run: str
    action: str
    attempt: int
    task: str
    image: str
    command: Sequence[str]
    working_dir: str | None = None
    env: Mapping[str, str] = attrs.field(factory=dict)
    #: Secrets whose every key becomes an environment variable (a remote store's credentials).
    env_from_secrets: Sequence[str] = ()
    secrets: Any = None
    resources: Resources | None = None
    timeout: float | None = None
    #: Host folders mounted at the same path inside the pod (the run's folders of the data store,
    #: the channel socket's folder).
    host_paths: Sequence[str] = ()
    #: Host folders mounted at the same path and writable (some inside ``host_paths`` ones): with
    #: these, the ``host_paths`` mounts are read-only.
    writable_paths: Sequence[str] = ()
    #: Single host files mounted read-only at the same path (the code bundle).
    host_files: Sequence[str] = ()
    #: Host folders mounted at another path (host path -> path in the pod): a raw container task's
    #: input and output folders.
    mounts: Mapping[str, str] = attrs.field(factory=dict)
    pull_policy: str = "IfNotPresent"
    #: Secrets (``kubernetes.io/dockerconfigjson``) the kubelet pulls ``image`` with: the
    #: environment image's ``registry_secret``.
    image_pull_secrets: Sequence[str] = ()
    service_account: str | None = None
    pod_template: Any = None
    annotations: Mapping[str, str] = attrs.field(factory=dict)
    gpu_resource: str = "nvidia.com/gpu"
    gpu_node_label: str | None = None
    #: None: the image's user with the engine's defaults (an unrestricted environment, or a pod
    #: template that sets its own).
    confinement: Confinement | None = None
    #: The task environment's name (a label of the pod).
    environment: str | None = None


def image_pull_secrets(image: Image | None) -> list[str]:
    """The Secrets a pod of an environment with ``image`` pulls with: the image's ``registry_secret``
    (none without one: the ServiceAccount's ``imagePullSecrets`` still apply)."""
    return [image.registry_secret] if image is not None and image.registry_secret else []


def build_pod(req: PodRequest) -> dict[str, Any]:
    """The manifest (``v1`` ``Pod``) for ``req``, merged onto its pod template."""
    env = [{"name": k, "value": str(v)} for k, v in req.env.items()]
    secret_env, volumes, mounts = secret_refs(req.secrets)
    env += secret_env
    for i, path in enumerate(dict.fromkeys(req.host_paths)):
        # type Directory: a typo or a missing folder fails the pod visibly instead of mounting an
        # empty folder the kubelet made up.
        volumes.append({"name": f"flyte-host-{i}", "hostPath": {"path": path, "type": "Directory"}})
        mounts.append({"name": f"flyte-host-{i}", "mountPath": path,
                       **({"readOnly": True} if req.writable_paths else {})})
    for i, path in enumerate(dict.fromkeys(req.writable_paths)):
        volumes.append({"name": f"flyte-rw-{i}", "hostPath": {"path": path, "type": "Directory"}})
        mounts.append({"name": f"flyte-rw-{i}", "mountPath": path})
    for i, path in enumerate(dict.fromkeys(req.host_files)):
        volumes.append({"name": f"flyte-file-{i}", "hostPath": {"path": path, "type": "File"}})
        mounts.append({"name": f"flyte-file-{i}", "mountPath": path, "readOnly": True})
    for i, (host, inside) in enumerate(req.mounts.items()):
        volumes.append({"name": f"flyte-io-{i}", "hostPath": {"path": host, "type": "Directory"}})
        mounts.append({"name": f"flyte-io-{i}", "mountPath": inside})
    if req.confinement is not None:
        for i, path in enumerate(dict.fromkeys([TMP_DIR, *req.confinement.scratch])):
            volumes.append({"name": f"flyte-scratch-{i}", "emptyDir": {}})
            mounts.append({"name": f"flyte-scratch-{i}", "mountPath": path})
        if "HOME" not in req.env:  # the unprivileged user has no home in the image
            env.append({"name": "HOME", "value": TMP_DIR})
    shm = shm_volume(req.resources, req.task)
    if shm is not None:
        volumes.append(shm[0])
        mounts.append(shm[1])
    container: dict[str, Any] = {
        "name": "primary", "image": req.image, "imagePullPolicy": req.pull_policy, "command": list(req.command),
        "env": env, "volumeMounts": mounts,
        # The kubelet reads the container's last words into the termination message for failures.
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if req.env_from_secrets:
        container["envFrom"] = [{"secretRef": {"name": name}} for name in req.env_from_secrets]
    if req.working_dir:
        container["workingDir"] = req.working_dir
    res = container_resources(req.resources, req.task, req.gpu_resource)
    if res:
        container["resources"] = res
    spec: dict[str, Any] = {
        "restartPolicy": "Never", "containers": [container], "volumes": volumes,
        # Pods are deleted by the controller once collected; a short grace keeps aborts quick.
        "terminationGracePeriodSeconds": 5,
        # Task pods talk to the run's controller over the channel, never to the API server.
        "automountServiceAccountToken": False,
    }
    if req.timeout is not None:
        spec["activeDeadlineSeconds"] = max(1, math.ceil(req.timeout))
    if req.service_account:
        spec["serviceAccountName"] = req.service_account
    if req.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in dict.fromkeys(req.image_pull_secrets)]
    selector = gpu_node_selector(req.resources, req.gpu_node_label)
    if selector:
        spec["nodeSelector"] = selector
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": req.name, "namespace": req.namespace,
            "labels": names.pod_labels(req.run, req.action, req.task, req.attempt, req.environment),
            "annotations": {names.TASK_ANNOTATION: req.task, **req.annotations},
        },
        "spec": spec,
    }
    merged = merge_pod(pod, req.pod_template)
    wanted = template_parts(req.pod_template)[0].get("automountServiceAccountToken")
    if wanted is not None:  # a task that needs the API opts in through its environment's template
        merged["spec"]["automountServiceAccountToken"] = wanted
    if req.confinement is not None:
        confine(merged, req.confinement, primary_name(req.pod_template))
    return merged


def confine(pod: dict[str, Any], how: Confinement, primary: str) -> None:
    """Add the confinement's security contexts to ``pod`` (already merged onto its template). What
    the template set wins key by key, so an environment's ``pod_template`` can opt out of each
    setting; a template that names the user (``runAsUser``, ``runAsGroup`` or ``runAsNonRoot``, on
    the pod or the task's container) also drops the default user."""
    spec = pod["spec"]
    container = next(c for c in spec["containers"] if c.get("name") == primary)
    pod_sc, own_sc = dict(spec.get("securityContext") or {}), dict(container.get("securityContext") or {})
    identity = ("runAsUser", "runAsGroup", "runAsNonRoot")
    defaults: dict[str, Any] = {"fsGroup": how.gid}
    if not any(k in sc for sc in (pod_sc, own_sc) for k in identity):
        defaults.update(runAsNonRoot=True, runAsUser=how.uid, runAsGroup=how.gid)
    spec["securityContext"] = {**defaults, **pod_sc}
    mine: dict[str, Any] = {"capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": how.read_only_root}
    # The API refuses allowPrivilegeEscalation false beside privileged or an added CAP_SYS_ADMIN.
    added = (own_sc.get("capabilities") or {}).get("add") or []
    if not own_sc.get("privileged") and not {"SYS_ADMIN", "CAP_SYS_ADMIN"} & set(added):
        mine["allowPrivilegeEscalation"] = False
    container["securityContext"] = {**mine, **own_sc}
