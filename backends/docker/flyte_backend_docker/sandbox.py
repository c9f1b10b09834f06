"""How task containers are confined: who they run as, which privileges they lose, what of their
own filesystem they may write (``backends.docker.security``, see docs/security.md).

A restricted container (the default) runs as a non-root user with every Linux capability dropped,
``no-new-privileges`` (setuid binaries cannot raise it back) and a read-only root filesystem;
``/tmp`` (also its ``HOME``) and the folder the code bundle is unpacked into are private tmpfs.
An environment named in ``unrestricted_environments`` gets Docker's defaults instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from flyte_backend_docker.options import SecurityOptions

#: The user and group restricted containers run as when the driver is root: an id no host
#: account uses (the "nonroot" user of distroless images), so a task that escaped its container
#: would own nothing on the host but the folders it was given.
UNPRIVILEGED = 65532
#: Mount options of the private tmpfs folders (executables allowed: tools unpack and run helpers there).
TMPFS_OPTIONS = "rw,exec,nosuid,nodev"
#: Folders images keep closed to other users (root's home, mode 0700), where a run's folders are
#: when the driver runs as root (``~/.flyte``): mounted at the same place, they would be out of a
#: restricted container's reach (a tmpfs there takes the image folder's mode, so it cannot open it).
CLOSED_DIRS = ("/root",)


@attrs.frozen
class Sandbox:
    """The confinement of one run's containers: ``owner`` is the ``(uid, gid)`` restricted
    containers run as; ``read_only_root`` and ``unrestricted`` (environment names) as configured."""

    owner: tuple[int, int]
    read_only_root: bool = True
    unrestricted: frozenset[str] = frozenset()

    @classmethod
    def from_options(cls, opts: SecurityOptions) -> Sandbox:
        """The sandbox ``opts`` describe, resolving ``user: auto`` for this process."""
        return cls(container_owner(opts.user), opts.read_only_root, frozenset(opts.unrestricted_environments))

    def restricts(self, environment: str) -> bool:
        """True unless ``environment`` opted out."""
        return environment not in self.unrestricted

    def writer(self, environment: str) -> tuple[int, int] | None:
        """Who the folders a container of ``environment`` writes must belong to (None: leave them;
        an unrestricted container runs as the image's user, root for default images)."""
        return self.owner if self.restricts(environment) else None

    def settings(self, environment: str, private_dirs: tuple[str, ...] = ()) -> dict[str, Any]:
        """Extra ``create_container`` arguments (``user``) and host-config arguments (under
        ``"host"``) for a container of ``environment``; ``private_dirs`` become tmpfs it owns."""
        if not self.restricts(environment):
            return {"host": {}}
        uid, gid = self.owner
        host: dict[str, Any] = {"cap_drop": ["ALL"], "security_opt": ["no-new-privileges"]}
        if self.read_only_root:
            own = f"{TMPFS_OPTIONS},uid={uid},gid={gid}"
            host["read_only"] = True
            host["tmpfs"] = {"/tmp": f"{TMPFS_OPTIONS},mode=1777", **{d: f"{own},mode=0700" for d in private_dirs}}
        return {"user": f"{uid}:{gid}", "host": host}

    def passages(self, environment: str, mounts: Iterable[str], stubs: str) -> dict[str, dict[str, str]]:
        """Bind mounts that let a container of ``environment`` reach ``mounts`` (where its other
        bind mounts go) through :data:`CLOSED_DIRS`: each closed folder that holds one becomes
        ``stubs/<folder>``, a folder of this process's (mode 0755: the container passes through and
        reads, but cannot write), where the engine makes the mount points. Hides nothing of the
        image a restricted container could read; none for an unrestricted one (it runs as root)."""
        if not self.restricts(environment):
            return {}
        found = {d for d in CLOSED_DIRS for m in mounts if m.startswith(f"{d}/")}
        passages = {}
        for closed in sorted(found):
            host = os.path.join(stubs, closed.strip("/"))
            os.makedirs(host, exist_ok=True)
            os.chmod(host, 0o755)  # whatever this process's umask
            passages[host] = {"bind": closed, "mode": "rw"}  # rw: the engine adds mount points in it
        return passages

    def environment(self, environment: str, env: Mapping[str, str]) -> dict[str, str]:
        """``env`` with ``HOME`` set to ``/tmp`` for a restricted container (its user has no home
        in the image, and the rest of the filesystem is read-only), unless the task sets one."""
        if not self.restricts(environment) or "HOME" in env:
            return dict(env)
        return {**env, "HOME": "/tmp"}


def container_owner(user: str) -> tuple[int, int]:
    """The ``(uid, gid)`` for the ``user`` option: ``auto`` is this process's own ids unless it is
    root (then :data:`UNPRIVILEGED`), so files tasks write into the data store belong to whoever
    ran the workflow; ``UID`` means ``UID:UID``."""
    if user == "auto":
        uid = os.geteuid()
        return (uid, os.getegid()) if uid != 0 else (UNPRIVILEGED, UNPRIVILEGED)
    uid_s, _, gid_s = user.partition(":")
    return int(uid_s), int(gid_s or uid_s)


def give(path: str, owner: tuple[int, int] | None, mode: int = 0o755) -> str:
    """Create the folder ``path`` (parents as needed, as this process) and hand exactly it (not
    what is already in it, nor its parents) to ``owner`` so a container running as them can write
    it; return ``path``. Nothing changes hands when ``owner`` is this process or None."""
    made = not os.path.isdir(path)
    os.makedirs(path, exist_ok=True)
    handed = owner is not None and owner != (os.geteuid(), os.getegid())
    if owner is not None and handed:
        os.chown(path, *owner)
    if made or handed:  # a folder someone else made and nobody hands over keeps its mode
        os.chmod(path, mode)
    return path
