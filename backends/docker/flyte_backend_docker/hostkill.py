"""Killing a run's containers straight from this host, without waiting for the Docker engine.

A Docker engine handles kills (and exits) of containers one after another: told to kill 100 at
once, it takes seconds on a busy machine before the last one's processes are gone. When the engine
runs on this machine and this process may signal the containers' processes (it runs as root, or as
their user), an abort instead sends SIGKILL to each container's main process itself: the kernel
then ends every process of the container at once (the main process is PID 1 of the container's PID
namespace), and the engine merely records the exits afterwards.

Each container's main process is held by a pidfd (``pidfd_open``, Linux 5.3), opened right after
the container starts and checked to be in that container's cgroup, so a signal can never reach
another process that reused the number. Anywhere this does not hold (a remote engine, one in a VM,
no pidfd support, no permission) nothing is tracked and aborts go through the engine's kill API.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from urllib.parse import urlparse

log = logging.getLogger("flyte.docker")


def engine_is_local(docker_host: str | None) -> bool:
    """Whether the engine named by ``DOCKER_HOST`` (None: the default socket) runs on this machine."""
    return not docker_host or urlparse(docker_host).scheme in ("unix", "npipe", "")


class HostKiller:
    """SIGKILLs tracked containers' main processes directly; see the module doc."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")
        self._fds: dict[str, int] = {}
        self._lock = threading.Lock()

    def track(self, cid: str, pid: int) -> bool:
        """Hold container ``cid``'s main process ``pid`` (as the engine reports it); False when it
        cannot be held here (it already ended, or is not visible or not ours to signal)."""
        if not self.enabled or pid <= 0:
            return False
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            return False
        # Opened after the engine named the pid: make sure it is still that container's process.
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                mine = cid in f.read()
        except OSError:
            mine = False
        if mine:
            try:
                signal.pidfd_send_signal(fd, 0)  # may we signal it at all?
            except OSError:
                mine = False
        if not mine:
            os.close(fd)
            return False
        with self._lock:
            old = self._fds.pop(cid, None)
            self._fds[cid] = fd
        if old is not None:
            os.close(old)
        return True

    def kill(self, cid: str) -> bool:
        """SIGKILL container ``cid``'s processes now; False when it is not tracked (ask the engine)."""
        with self._lock:
            fd = self._fds.get(cid)
            if fd is None:
                return False
            try:
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it has ended already
            except OSError as e:
                log.debug("could not kill container %s directly: %s", cid[:12], e)
                return False
            return True

    def forget(self, cid: str) -> None:
        """Stop tracking ``cid`` (it ended, or is removed)."""
        with self._lock:
            fd = self._fds.pop(cid, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        """Stop tracking every container."""
        with self._lock:
            fds, self._fds = list(self._fds.values()), {}
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
