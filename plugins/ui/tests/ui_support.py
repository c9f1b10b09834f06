"""Helpers for the UI tests: the record of the runs a session holds, the report shim, and a
uvicorn server in a background thread."""

from __future__ import annotations

import socket
import threading
import time

import attrs
import uvicorn
from starlette.applications import Starlette

from flyte_core.extend import Session


@attrs.frozen
class Runs:
    """A session and the names of the runs made in it."""

    session: Session
    ok: str
    failed: str


class ServerThread:
    """``app`` served by uvicorn on a free port of 127.0.0.1 in a background thread.

    Use as a context manager: the server is up on entry and stopped (``should_exit``) and joined
    on exit, so no thread outlives the test.
    """

    def __init__(self, app: Starlette) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]},
                                        name="flyte-ui-test-server", daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the UI server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(15)
        self._sock.close()
        assert not self._thread.is_alive(), "the UI server thread did not stop"
