"""The ``kubernetes`` backend's options (config ``backends.kubernetes`` or ``backend_options``).

Unknown keys are errors, as everywhere in flyte-core's config: a typo must not be ignored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from flyte_core.extend import Invalid, at_least, one_of, structure

_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def _dns_label(_: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not _DNS_LABEL.fullmatch(value):
        raise Invalid(attribute.name, f"must be a Kubernetes name (lower-case letters, digits and '-', at most 63), "
                      f"got {value!r}")


_USER = re.compile(r"([0-9]+)(?::([0-9]+))?")


def _task_user(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    m = _USER.fullmatch(value)
    if m is None:
        raise Invalid(attribute.name, f"must be a numeric 'UID' or 'UID:GID' (pods need numbers), got {value!r}")
    if int(m.group(1)) == 0:
        raise Invalid(attribute.name, "must not be 0 (root); list the environments that need root in "
                      "security.unrestricted_environments instead")


@attrs.frozen
class SecurityOptions:
    """How task pods are confined (``backends.kubernetes.security``); see docs/security.md.

    - ``user`` (default ``"65532:65532"``): the ``UID[:GID]`` task pods run as (never root); the GID
      is also the pod's ``fsGroup``.
    - ``read_only_root`` (default True): the container's root filesystem is read-only; ``/tmp``,
      ``$HOME`` (``/tmp``) and the code folder are scratch volumes of the pod.
    - ``unrestricted_environments``: names of task environments whose pods run as the image's user
      with the engine's defaults (no user, capability or read-only settings), for images that need root.
    """

    user: str = attrs.field(default="65532:65532", validator=_task_user)
    read_only_root: bool = True
    unrestricted_environments: list[str] = attrs.field(factory=list)

    @property
    def uid_gid(self) -> tuple[int, int]:
        """``(uid, gid)``; the GID is the UID when not given."""
        uid, _, gid = self.user.partition(":")
        return int(uid), int(gid or uid)


@attrs.frozen
class KubeOptions:
    """Every option, with its default.

    - ``namespace``: where task pods run (default: the kubeconfig context's namespace, else
      ``default``).
    - ``context`` / ``kubeconfig``: which cluster (default: ``$KUBECONFIG``'s current context; in a
      pod, the in-cluster ServiceAccount).
    - ``data_host_path``: the host folder that holds the local data store, mounted into every pod
      at the same path (``hostPath``). Only for single-node clusters (kind, k3d, minikube, a
      kubelet on this machine); it must equal the data store folder, and is required when the data
      store is a local folder: pods cannot reach this machine's disk any other way.
    - ``data_secret``: a Secret in the namespace whose keys become environment variables of every
      pod (task and driver pods): the credentials and fsspec settings of a remote data store, e.g.
      ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``FSSPEC_S3_ENDPOINT_URL``. Not needed where
      pods get cloud credentials from their ServiceAccount (IRSA, workload identity).
    - ``channel_host``: with a remote data store, the address task pods reach this controller's
      channel (nested task calls) on. Default: the driver pod's own IP (``$POD_IP``); a controller
      outside the cluster must name an address of this machine that pods can reach.
    - ``registry``: push task images to this registry (``host:port/prefix``) and run them from
      there; without one, images stay in the local Docker engine, which single-node clusters
      using that engine (or ``kind load``) can run with ``imagePullPolicy: IfNotPresent``.
    - ``push_images`` (default True): push built images to their registry (the image's own
      ``registry=``, else ``registry``). False keeps every image in the local Docker engine, even
      one whose spec names a registry (Flyte 2 programs often name one): for single-node clusters
      whose runtime is that engine, where a push is not needed and may not be possible.
    - ``image_pull_policy``: default ``IfNotPresent`` (``Always`` is a poor choice for
      content-hashed tags).
    - ``service_account``: the ServiceAccount task pods run as (default: the namespace's default).
    - ``keep_pods_seconds``: keep finished pods this long for debugging (default 0: delete a pod
      as soon as its outcome and logs are collected). Kept pods are deleted by a later run's start
      or ``flyte kubernetes prune``.
    - ``image_pull_grace`` (default 20 s): how long a pod may fail to pull its image before the
      attempt fails with ImagePullBackOffError (the kubelet retries meanwhile).
    - ``unschedulable_grace`` (default 60 s): how long a pod may stay unschedulable while no
      other pod of its run starts or ends, before the attempt fails (an autoscaler may add a node
      meanwhile). A fan-out wider than the cluster keeps moving, so its pods wait for room.
    - ``start_grace`` (default 60 s): how long a pod may fail to create its container (a missing
      Secret or ConfigMap) before the attempt fails.
    - ``deadline_grace`` (default 10 s): the kubelet enforces timeouts with
      ``activeDeadlineSeconds``; the controller stops a pod itself this long after that.
    - ``echo`` (default True): also print what pods printed.
    - ``base_image``, ``image_builder`` (default "docker"), ``cache_dir``: passed to the image
      builder, as for the docker backend.
    - ``prebuilt_images``: a JSON file mapping image specs to references, written by ``flyte
      kubernetes run`` for its driver pod (which has no Docker engine to build with).
    - ``gpu_resource`` (default ``nvidia.com/gpu``): the extended resource GPUs are requested as;
      ``gpu_node_label``: when set, ``Resources(gpu="A100:1")`` also selects nodes whose label of
      this name is ``A100``.
    - ``security``: how task pods are confined (:class:`SecurityOptions`): non-root, no
      capabilities, no privilege escalation, read-only root filesystem by default.
    """

    namespace: str | None = attrs.field(default=None, validator=_dns_label)
    context: str | None = None
    kubeconfig: str | None = None
    data_host_path: str | None = None
    data_secret: str | None = None
    channel_host: str | None = None
    registry: str | None = None
    push_images: bool = True
    image_pull_policy: str = attrs.field(default="IfNotPresent", validator=one_of("IfNotPresent", "Always", "Never"))
    service_account: str | None = None
    keep_pods_seconds: float = attrs.field(default=0.0, validator=at_least(0))
    image_pull_grace: float = attrs.field(default=20.0, validator=at_least(0))
    unschedulable_grace: float = attrs.field(default=60.0, validator=at_least(0))
    start_grace: float = attrs.field(default=60.0, validator=at_least(0))
    deadline_grace: float = attrs.field(default=10.0, validator=at_least(0))
    echo: bool = True
    base_image: str | None = None
    image_builder: str = "docker"
    cache_dir: str | None = None
    gpu_resource: str = "nvidia.com/gpu"
    gpu_node_label: str | None = None
    prebuilt_images: str | None = None
    security: SecurityOptions = attrs.field(factory=SecurityOptions)

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: Path | str | None = None) -> KubeOptions:
        """Options from a config mapping (from the file ``source``, named in errors); unknown keys
        and wrong types are ConfigErrors, raised before anything is created on the cluster."""
        opts = structure(cls, raw, section="backends.kubernetes", source=source)
        if opts.data_host_path is not None:
            object.__setattr__(opts, "data_host_path", os.path.abspath(os.path.expanduser(opts.data_host_path)))
        return opts
