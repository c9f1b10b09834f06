"""Per-run preparation: how pods reach the data store, the code bundle, named pod templates."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
from kubernetes import client

from flyte_core.extend import BackendRun, DataStore, FlyteUsageError, flyte_home, make_bundle


@attrs.frozen
class DataAccess:
    """How pods reach the data store: through a ``hostPath`` mount of ``host_path`` (single-node
    clusters), or over the network with fsspec (``host_path`` None: s3://, gs://, abfs://...)."""

    root: str
    host_path: str | None = None
    #: Pip requirements a pod needs to open the store (``s3fs==...`` for s3://), added to images.
    packages: tuple[str, ...] = ()

    @property
    def remote(self) -> bool:
        """True when pods reach the store over the network (no hostPath)."""
        return self.host_path is None


def data_access(root: str, data_host_path: str | None) -> DataAccess:
    """How pods reach the store at ``root``; refuse stores pods cannot reach, saying what to configure."""
    if root.startswith("memory://"):
        raise FlyteUsageError(
            f"The data store {root} lives in this process's memory, which pods cannot reach; configure "
            "storage.data as an object store URL (s3://, gs://, abfs://) or, on a single-node cluster, a folder "
            "with backends.kubernetes.data_host_path."
        )
    if "://" in root and not root.startswith("file://"):
        if data_host_path is not None:
            raise FlyteUsageError(
                f"backends.kubernetes.data_host_path is set, but the data store {root} is not a folder; remove "
                "data_host_path (pods reach a remote store over the network) or make storage.data that folder."
            )
        return DataAccess(root=root, packages=store_packages(root))
    return DataAccess(root=root, host_path=host_data_root(root, data_host_path))


def store_packages(url: str) -> tuple[str, ...]:
    """The pip requirement (pinned to this machine's version) of the fsspec implementation of
    ``url``'s protocol, when it is not fsspec itself; a clear error when it is not installed here."""
    import importlib.metadata as md

    import fsspec
    from fsspec.registry import known_implementations

    protocol = url.split("://", 1)[0]
    try:
        cls = fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError) as e:
        raise FlyteUsageError(f"The data store {url} needs an fsspec implementation of '{protocol}://' that is not "
                              f"installed here: {e}") from None
    module = (known_implementations.get(protocol, {}).get("class") or cls.__module__).split(".")[0]
    if module == "fsspec":
        return ()
    dists = md.packages_distributions().get(module) or [module]
    return tuple(f"{d}=={md.version(d)}" for d in dists)


def host_data_root(root: str, data_host_path: str | None) -> str:
    """The data store folder pods mount with ``hostPath``; refuse folders pods cannot reach."""
    # Mounted at the path the store is written as (the node resolves symlinks in hostPath
    # itself); compared by real path.
    path = os.path.abspath(os.path.expanduser(root.removeprefix("file://")))
    if data_host_path is None:
        raise FlyteUsageError(
            f"The data store {path} is a folder on this machine, which pods can reach only as a hostPath mount "
            "on a single-node cluster whose node sees this folder at the same path (a kubelet on this machine, "
            f"or kind/k3d with the folder mounted). If that is this cluster, set backends.kubernetes."
            f"data_host_path: {path} in the config (or backend_options); this is never assumed silently."
        )
    if os.path.realpath(data_host_path) != os.path.realpath(path):
        raise FlyteUsageError(
            f"backends.kubernetes.data_host_path is {data_host_path}, but the data store is {path}; they must "
            "be the same folder (pods read and write the data store through that mount)."
        )
    os.makedirs(path, exist_ok=True)
    return path


def bundle_for(run: BackendRun, store: DataStore) -> str:
    """Ship the project as a code bundle; never the stores or local state inside it."""
    s = run.settings
    exclude = [store.root, s.run_base_dir, str(flyte_home()), *s.state_paths,
               *(f"{p}-wal" for p in s.state_paths), *(f"{p}-shm" for p in s.state_paths)]
    return str(make_bundle(Path(s.code_root), store, exclude=exclude))


@attrs.frozen
class NamedTemplate:
    """A cluster ``PodTemplate`` object, in the shape of ``flyte.PodTemplate``."""

    pod_spec: Any
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    primary_container_name: str = "primary"


def resolve_template(api: client.CoreV1Api, name: str, namespace: str) -> NamedTemplate:
    """The ``PodTemplate`` object ``name`` (``pod_template="name"``) from the namespace."""
    try:
        obj = api.read_namespaced_pod_template(name, namespace)
    except client.ApiException as e:
        if e.status == 403:  # the driver pod's ServiceAccount may manage pods only (least RBAC)
            raise FlyteUsageError(
                f"pod_template '{name}': reading PodTemplates in namespace '{namespace}' is not allowed to this "
                "account (a durable run's driver may manage pods only); pass a flyte.PodTemplate object instead, "
                "or add `get` on podtemplates to the flyte-runner Role.") from None
        raise FlyteUsageError(f"pod_template '{name}' names no PodTemplate in namespace '{namespace}' "
                              f"({e.status} {e.reason}); create it or pass a flyte.PodTemplate.") from None
    tpl = obj.template
    meta = tpl.metadata if tpl is not None else None
    return NamedTemplate(pod_spec=tpl.spec if tpl is not None else None,
                         labels=(meta.labels if meta is not None else None),
                         annotations=(meta.annotations if meta is not None else None))
