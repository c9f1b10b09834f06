"""``flyte ui``: serve the web UI for the runs of the configured run store."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import webbrowser

import click

from flyte_core.cli.common import CliState, fail_usage

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8377


def is_loopback(host: str) -> bool:
    """True if ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0 picks a free one), or a usage error naming the
    port. Binding here, rather than inside uvicorn, turns "address in use" into one clear line
    instead of a logged traceback, and leaves no window for another process to take the port."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        fail_usage(f"Cannot listen on host '{host}': {e}.")
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as e:
        sock.close()
        fail_usage(f"Cannot listen on {host}:{port} ({e.strerror}); pass another --port.")
    sock.listen(128)
    return sock


def _open_when_started(server: object, url: str) -> None:
    """Open ``url`` in a browser once uvicorn reports it is serving."""
    def wait() -> None:
        deadline = time.monotonic() + 10
        while not getattr(server, "started", False) and time.monotonic() < deadline:
            time.sleep(0.05)
        webbrowser.open(url)

    threading.Thread(target=wait, name="flyte-ui-open", daemon=True).start()


@click.command("ui")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on. The UI has no login: keep it on 127.0.0.1 unless you mean to share it.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--open/--no-open", "open_browser", default=False, show_default=True,
              help="Open the UI in a web browser once it is serving.")
@click.pass_obj
def ui_cmd(state: CliState, host: str, port: int, open_browser: bool) -> None:
    """Browse runs in a web browser: runs list, action tree, timeline, logs, inputs, outputs and reports."""
    import uvicorn

    from flyte_ui.app import create_app

    if not is_loopback(host):
        click.echo(f"warning: the UI has no authentication; anyone who can reach {host}:{port} can see every run "
                   "and its data.", err=True)
    session = state.session()
    sock = bind(host, port)
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    server = uvicorn.Server(uvicorn.Config(create_app(session), log_level="warning", lifespan="off"))
    click.echo(f"Flyte UI at {url} (runs from {session.runs!r}; Ctrl-C to stop)", err=True)
    if open_browser:
        _open_when_started(server, url)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        session.close()
