"""A unix-socket relay that puts the run's channel where pods can reach it.

flyte-core's :class:`~flyte_core.channel.ChannelServer` listens in a private temporary folder of
this machine. Pods see this machine's disk only through the data store's ``hostPath`` mount, so
the backend listens on a socket inside that folder and relays each connection, byte for byte, to
the channel's own socket. Authentication stays the channel's (a token per attempt); the relay
adds nothing but a hop. On a node that is this machine (a local kubelet) or whose data folder
is a mount of it (kind's ``extraMounts``), a pod connects to the socket through its mount.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from flyte_core.channel import MAX_MESSAGE

#: Unix socket paths longer than this do not fit ``sockaddr_un`` on every platform.
MAX_PATH = 100


class ChannelRelay:
    """Listens on ``path`` and connects every client through to ``target``."""

    def __init__(self, path: str, target: str) -> None:
        if len(path.encode()) > MAX_PATH:
            raise ValueError(f"socket path {path} is longer than {MAX_PATH} bytes")
        self.path = path
        self.target = target
        self._server: asyncio.AbstractServer | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start listening (on the running loop); the socket is world-connectable on purpose:
        containers may run as another user, and the channel checks each attempt's token."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self._server = await asyncio.start_unix_server(self._serve, path=self.path, limit=MAX_MESSAGE)
        os.chmod(self.path, 0o777)

    async def close(self) -> None:
        """Stop listening, cut every relayed connection and remove the socket."""
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.target, limit=MAX_MESSAGE)
        except OSError:
            self._pipes.discard(task)
            writer.close()
            return
        try:
            # Either side ending ends both: the channel cancels a worker's calls when it goes away.
            _, pending = await asyncio.wait(
                [asyncio.ensure_future(_pipe(reader, up_writer)), asyncio.ensure_future(_pipe(up_reader, writer))],
                return_when=asyncio.FIRST_COMPLETED)
            for p in pending:
                p.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        finally:
            for w in (up_writer, writer):
                w.close()
            self._pipes.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while chunk := await reader.read(1 << 16):
            writer.write(chunk)
            await writer.drain()
