"""Which user a task pod runs as, and which folders of a hostPath data store it may write.

A confined pod (see ``podspec.Confinement``) runs as an unprivileged user, so the folders it writes
in the data store must belong to that user. ``fsGroup`` does not reach ``hostPath`` volumes, so
the controller (root on the node, or in the driver pod) makes each folder an attempt writes and
hands it to that user before the pod starts. The pod never mounts the whole store: its run's folder
and the runs it recovers read-only (``flyte_core.extend.StoreView``), and only these folders
writable: its attempt's own folder (``k8s/<run>/<action>-<attempt>``: its spec, outcome and log),
its own outputs (``runs/<run>/data/<action>-<attempt>``), its action's folder (checkpoints,
reports: ``runs/<run>/<action>``) and the run's raw data folder.

A controller that is not root cannot give folders away; then pods run as the controller's own user
(also not root), who owns what the controller makes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import attrs

from flyte_backend_kubernetes.options import SecurityOptions
from flyte_backend_kubernetes.podspec import Confinement
from flyte_core.extend import StoreView


def task_ids(security: SecurityOptions, host_path: str | None) -> tuple[int, int]:
    """``(uid, gid)`` confined task pods run as: the configured user, unless the data store is a
    hostPath folder this process cannot give away (not root): then its own (non-root) user."""
    if host_path is not None and os.geteuid() != 0:
        return os.getuid(), os.getgid()
    return security.uid_gid


def confinement(security: SecurityOptions, ids: tuple[int, int], env_name: str | None,
                scratch: Iterable[str] = ()) -> Confinement | None:
    """The confinement of a pod of environment ``env_name``; None for an unrestricted environment."""
    if env_name is not None and env_name in security.unrestricted_environments:
        return None
    return Confinement(uid=ids[0], gid=ids[1], read_only_root=security.read_only_root, scratch=tuple(scratch))


def local_path(url: str, host_path: str) -> str | None:
    """``url`` as a folder under the hostPath data store ``host_path``, or None when it is elsewhere."""
    path = os.path.abspath(url.removeprefix("file://")) if "://" not in url or url.startswith("file://") else None
    if path is None or not (path == host_path or path.startswith(host_path.rstrip("/") + "/")):
        return None
    return path


@attrs.frozen
class PodMounts:
    """The host paths of a hostPath data store one attempt's pod mounts, each at its own path."""

    #: Folders mounted read-only: the run's, the recovered runs', the channel socket's.
    read_only: tuple[str, ...]
    #: Folders mounted writable: the attempt's own folder (spec, outcome, log), its outputs, its
    #: action's folder, the run's raw data folder (when inside the store).
    writable: tuple[str, ...]
    #: Single files mounted read-only: the code bundle (when inside the store).
    files: tuple[str, ...]


def pod_mounts(view: StoreView, host_path: str, *, action: str, data_prefix: str, raw_data_path: str,
               attempt_folder: str, channel_dir: str | None, bundle: str) -> PodMounts:
    """What the pod of one attempt of ``action`` mounts of the hostPath store ``host_path``: never the
    store itself, nor the cache, other runs, other bundles or other attempts' folders."""
    store = view.mounts(action, data_prefix, raw_data_path)
    # A raw data folder or bundle outside the data store is not one pods may mount (nor the gate allow).
    inside = [p for p in (local_path(u, host_path) for u in store.writable) if p is not None]
    code = local_path(bundle, host_path)
    # The channel's socket is in a read-only mount: connecting to a socket is not a write to its file system.
    return PodMounts(read_only=(*store.read_only, *([channel_dir] if channel_dir else [])),
                     writable=tuple(dict.fromkeys([attempt_folder, *inside])),
                     files=(code,) if code is not None else ())


def writable(paths: Iterable[str], owner: tuple[int, int] | None) -> list[str]:
    """Make the folders ``paths`` and hand them to ``owner`` (``(uid, gid)``, group-writable; None:
    leave them as they are); return them."""
    done = []
    for path in dict.fromkeys(paths):
        os.makedirs(path, mode=0o755, exist_ok=True)
        if owner is not None and os.geteuid() == 0:
            st = os.stat(path)
            if (st.st_uid, st.st_gid) != owner:
                os.chown(path, *owner)
            # Group-writable (and inherited by new folders): a pod template that names another user
            # but keeps the pod's fsGroup, the group, can still write.
            if st.st_mode & 0o7777 != 0o2775:
                os.chmod(path, 0o2775)
        done.append(path)
    return done


def give_tree(path: str, owner: tuple[int, int]) -> None:
    """Hand the folder ``path`` and everything in it to ``owner`` (a raw container's staging folder)."""
    if os.geteuid() != 0:
        return
    for top, dirs, files in os.walk(path):
        for name in [top, *(os.path.join(top, d) for d in dirs), *(os.path.join(top, f) for f in files)]:
            os.lchown(name, *owner)
