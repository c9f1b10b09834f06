"""The channel over TCP (workers on other machines: pods of a remote-store Kubernetes run reach
their controller this way). Real sockets on loopback: the address format, the hello handshake
and the token check are the same as over a unix socket; a worker's ``finished`` notice reaches
the backend only from the attempt it speaks for. A whole run over TCP, with nested calls from
pods, is test_k8s_remote_store.py; every kubernetes e2e run ends its attempts through ``finished``."""

from __future__ import annotations

import asyncio
import json

from flyte_core.worker.channel_client import _connect
from flyte_core.worker.channel_server import ChannelServer


def _hello(address: str, token: str) -> dict[str, object]:
    sock = _connect(address)
    try:
        sock.sendall((json.dumps({"id": 0, "op": "hello", "token": token, "action": "a0.1", "attempt": 1}) + "\n")
                     .encode())
        return json.loads(sock.makefile("rb").readline())  # type: ignore[no-any-return]
    finally:
        sock.close()


def test_a_tcp_channel_authenticates_each_attempt() -> None:
    async def scenario() -> tuple[str, dict[str, object], dict[str, object]]:
        server = ChannelServer(None, is_running=lambda action, attempt: (action, attempt) == ("a0.1", 1),
                               code_root=".", tcp_host="127.0.0.1")
        await server.start()
        try:
            good = await asyncio.to_thread(_hello, server.path, server.token_for("a0.1", 1))
            bad = await asyncio.to_thread(_hello, server.path, server.token_for("a0.2", 1))
        finally:
            await server.close()
        return server.path, good, bad

    address, good, bad = asyncio.run(scenario())
    assert address.startswith("tcp://127.0.0.1:") and int(address.rsplit(":", 1)[1]) > 0
    assert good == {"id": 0, "ok": True}
    assert "invalid token" in json.dumps(bad["error"])


def test_a_worker_tells_its_controller_it_finished() -> None:
    from flyte_core.worker.channel_client import tell_finished

    heard: list[tuple[str, int]] = []

    async def scenario() -> tuple[bool, bool]:
        server = ChannelServer(None, is_running=lambda action, attempt: (action, attempt) == ("a0.1", 1),
                               code_root=".", tcp_host="127.0.0.1",
                               on_finished=lambda action, attempt: heard.append((action, attempt)))
        await server.start()
        try:
            ok = await asyncio.to_thread(tell_finished, server.path, server.token_for("a0.1", 1), "a0.1", 1)
            forged = await asyncio.to_thread(tell_finished, server.path, "not-a-token", "a0.1", 1)
        finally:
            await server.close()
        return ok, forged

    ok, forged = asyncio.run(scenario())
    assert ok and not forged
    assert heard == [("a0.1", 1)]  # only the authenticated worker was heard
