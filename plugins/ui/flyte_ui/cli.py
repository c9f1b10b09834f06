"""``flyte ui``: serve the web UI for the runs of the configured run store."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import click

from flyte_core.extend import CliState, fail_usage

if TYPE_CHECKING:  # socket and ipaddress are imported by the command: every `flyte` command loads this module
    import socket

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8377


def is_loopback(host: str) -> bool:
    """True if ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def trusted_hosts(host: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Host headers to answer when listening on ``host``: loopback names, the bound host, and, on a
    wildcard address, this machine's own names and addresses; plus ``extra``."""
    from flyte_ui.app import LOOPBACK_HOSTS

    hosts = [*LOOPBACK_HOSTS, host, *extra]
    if host in ("0.0.0.0", "::", ""):
        import socket

        names = {socket.gethostname(), socket.getfqdn()}
        hosts += sorted(names)
        for name in names:
            try:
                hosts += sorted({str(info[4][0]) for info in socket.getaddrinfo(name, None)})
            except OSError:
                continue
    return list(dict.fromkeys(hosts))


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0 picks a free one), or a usage error naming the
    port. Binding here, rather than inside uvicorn, turns "address in use" into one clear line
    instead of a logged traceback, and leaves no window for another process to take the port."""
    import socket

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
        import webbrowser  # deferred: it is slow to import and rarely used

        webbrowser.open(url)

    threading.Thread(target=wait, name="flyte-ui-open", daemon=True).start()


@click.command("ui")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on. The UI has no login: keep it on 127.0.0.1 unless you mean to share it.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Another Host header to answer (a name this machine is reached by); repeatable.")
@click.option("--open/--no-open", "open_browser", default=False, show_default=True,
              help="Open the UI in a web browser once it is serving.")
@click.pass_obj
def ui_cmd(state: CliState, host: str, port: int, allow_hosts: tuple[str, ...], open_browser: bool) -> None:
    """Browse runs in a web browser: runs list, action tree, timeline, logs, inputs, outputs and reports."""
    import uvicorn

    from flyte_ui.app import create_app

    sock = bind(host, port)
    port = sock.getsockname()[1]  # the real port, also when 0 asked for a free one
    if not is_loopback(host):
        click.echo(f"warning: the UI has no authentication; anyone who can reach {host}:{port} can see every run "
                   "and its data.", err=True)
    session = state.session()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    app = create_app(session, allowed_hosts=trusted_hosts(host, allow_hosts))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    click.echo(f"Flyte UI at {url} (runs from {session.runs!r}; Ctrl-C to stop)", err=True)
    if open_browser:
        _open_when_started(server, url)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        session.close()
