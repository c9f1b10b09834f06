"""One network namespace shared by the task containers of a run (option ``share_network``).

Most of what a container's start costs the engine is giving it a network of its own: a network
namespace, a virtual interface pair and its place on the bridge (about 60 to 150 ms here, more when
many start at once, since the engine does them one after another). With ``share_network``, the
run starts one small container that does nothing but hold a network namespace (the "holder", as
the pause container of a Kubernetes pod), and every task container of the run joins it
(``network_mode: container:<holder>``): the containers still have the network (the holder is on
``network``, or on the engine's default), but none pays for one of its own.

The holder runs no task code. It holds a connection to the run's controller (a unix socket of its
own, in a folder only it mounts) and exits when that closes: like every task container, it stops by
itself when the process driving the run dies (kill -9), and the next command of the run store
removes it.

What changes for tasks: they share ``localhost`` and the port space, as the containers of one pod
do. Two task containers of the run that run at once cannot listen on the same port, and one can
reach a service another binds to ``localhost``. The holder is confined as task containers are
(non-root, no capabilities, read-only; its one mount is its line's folder), is labelled with the
run (so the run's end, and ``flyte docker prune`` after a driver died, remove it with the run's
other containers), and is started again if it stopped (the engine restarted).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import docker
import docker.errors

from flyte_backend_docker.engine import ExitWatch

#: Label telling the holder apart from the run's task containers.
ROLE_LABEL = "org.flyte.role"
#: The holder's process (every task image has Python): connects to the controller's line, named
#: by its one argument, and waits until the line closes.
HOLD = ["python", "-c", "import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(1)"]
#: The socket's name in the line's folder.
LINE = "holder.sock"


class ControllerLine:
    """A unix socket the controller listens on for the holder's connection, held open for as long
    as the run is driven (on the run's loop; :meth:`close` at the run's end)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.path = os.path.join(folder, LINE)
        self._server: asyncio.AbstractServer | None = None
        self._held: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen (before any holder exists)."""
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        self._server = await asyncio.start_unix_server(self._hold, path=self.path)

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._held.add(writer)  # kept open: its end (or this process's) is what stops the holder

    async def close(self) -> None:
        """Stop listening and drop every held connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._held:
            writer.close()
        self._held.clear()


class SharedNetwork:
    """The holder of a run's network namespace, created on first use (thread-safe)."""

    def __init__(self, client: docker.DockerClient, labels: dict[str, str], network: str | None,
                 confinement: dict[str, Any], watch: ExitWatch, line: ControllerLine) -> None:
        self._client = client
        self._line = line
        self._labels = {**labels, ROLE_LABEL: "network"}
        self._network = network
        self._confinement = confinement  # ``user`` and host-config arguments, as a task container's
        self._watch = watch  # the run's exit watch: tells when the holder stopped
        self._lock = threading.Lock()
        self._holder: str | None = None
        self._exit: asyncio.Future[int] | None = None

    def mode(self, image: str | None) -> str | None:
        """The ``network_mode`` that joins the run's namespace; the holder is created from ``image``
        (a task image: it has Python) if there is none yet, and started again if it stopped. None
        when there is no holder and ``image`` is None (a container of another image, which may lack
        Python, cannot start one): that container gets a network of its own."""
        with self._lock:
            if self._holder is not None and self._exit is not None and self._exit.done():
                self._restart()
            if self._holder is None:
                if image is None:
                    return None
                self._holder = self._make(image)
            return f"container:{self._holder}"

    def _make(self, image: str) -> str:
        host = self._client.api.create_host_config(network_mode=self._network,
                                                   binds={self._line.folder: {"bind": self._line.folder, "mode": "rw"}},
                                                   **self._confinement.get("host", {}))
        cid = str(self._client.api.create_container(image, command=[*HOLD, self._line.path], labels=self._labels,
                                                    host_config=host, user=self._confinement.get("user"))["Id"])
        self._exit = self._watch.exited(cid)  # asked before it starts: a stop is never missed
        try:
            self._client.api.start(cid)
        except BaseException:
            self._client.api.remove_container(cid, force=True)
            raise
        return cid

    def _restart(self) -> None:
        """The holder stopped (the engine restarted): start it again, or make a new one if it is gone."""
        assert self._holder is not None
        self._watch.forget(self._holder)  # its next stop is watched afresh
        self._exit = self._watch.exited(self._holder)
        try:
            self._client.api.start(self._holder)
        except docker.errors.NotFound:
            self._holder = self._exit = None
