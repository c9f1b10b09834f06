"""The warm worker's attempt threads (:class:`flyte_backend_docker.pool_worker.Threads`): every
attempt starts at once, even while others wait, and threads done with an attempt take the next.
And borrowing an attempt's store folders on the control connection, from both ends."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flyte_backend_docker.pool import _Attempt, _lent
from flyte_backend_docker.pool_worker import Control, Threads


def wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_a_waiting_attempt_never_holds_up_the_next_and_threads_are_reused() -> None:
    threads = Threads()
    release, started = threading.Event(), threading.Barrier(3, timeout=10)
    first: set[int] = set()

    def blocked() -> None:  # an attempt waiting for its children
        first.add(threading.get_ident())
        started.wait()
        release.wait(10)

    threads.submit(blocked)
    threads.submit(blocked)
    started.wait()  # both run at once, on two threads
    release.set()
    wait_until(lambda: threads.idle == 2)
    later: list[int] = []
    for _ in range(50):
        threads.submit(lambda: later.append(threading.get_ident()))
        wait_until(lambda: threads.idle == 2)
    # Fifty attempts, one after another, on the two threads the first ones started: no new thread.
    assert len(later) == 50 and set(later) <= first and len(first) == 2


def test_a_worker_borrows_a_folder_over_its_control_connection(tmp_path: Path) -> None:
    """The worker's side of borrowing (``Control.borrow``) against a host on a real socket: it waits
    for the answer, and a refusal becomes an OSError naming the attempt, the folder and why."""
    path = str(tmp_path / "control.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    asked: list[dict[str, Any]] = []

    def host() -> None:  # lends "data", refuses anything else
        conn, _ = server.accept()
        with conn, conn.makefile("rb") as lines:
            for line in lines:
                msg = json.loads(line)
                asked.append(msg)
                reply = {"lent": msg["borrow"], "folder": msg["folder"]}
                if msg["folder"] != "data":
                    reply["error"] = "ValueError: not yours"
                conn.sendall((json.dumps(reply) + "\n").encode())

    threading.Thread(target=host, daemon=True).start()
    control = Control(path)

    def read() -> None:  # what the worker's main loop does with the host's messages
        for msg in control.messages():
            if "lent" in msg:
                control.answered(msg)

    threading.Thread(target=read, daemon=True).start()
    control.borrow("a1-1", "data")
    with pytest.raises(OSError, match="could not lend the action folder of attempt a1-1: ValueError: not yours"):
        control.borrow("a1-1", "action")
    assert asked == [{"borrow": "a1-1", "folder": "data"}, {"borrow": "a1-1", "folder": "action"}]
    server.close()


def test_the_host_lends_only_an_attempts_own_two_folders() -> None:
    """The host's side (``pool._lent``): a request for another name, or for an attempt that lends
    nothing, is refused in the reply; a failing loan is reported, not raised into the connection."""
    lent: list[str] = []

    def borrow(folder: str) -> None:
        if folder == "action":
            raise FileExistsError("in the way")
        lent.append(folder)

    async def replies() -> list[dict[str, Any]]:
        # What _lent uses of an attempt: its name and its borrow (a real one needs a running pool).
        attempt = _Attempt(None, "a2-1", True, None, borrow=borrow)  # type: ignore[arg-type]
        nothing = _Attempt(None, "a2-1", True, None)  # type: ignore[arg-type]
        return [json.loads(_lent(a, folder)) for a, folder in
                ((attempt, "data"), (attempt, "action"), (attempt, "../../etc"), (nothing, "data"))]

    ok, failed, other, none = asyncio.run(replies())
    assert ok == {"lent": "a2-1", "folder": "data"} and lent == ["data"]
    assert failed["error"] == "FileExistsError: in the way"
    assert "no store folder '../../etc'" in other["error"] and "no store folder 'data'" in none["error"]
