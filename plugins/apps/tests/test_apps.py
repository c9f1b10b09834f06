"""flyte-apps: apps served as real local processes (a command, a server function), the `flyte serve` CLI,
and clean stops that leave no process behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
from flyte_apps.serve import LocalApp

import flyte
import flyte.app
from flyte_core.extend import FlyteUsageError, load_file


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gone(pid: int) -> bool:
    """True when no process ``pid`` exists any more (reaped, not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return str(r.read().decode())


APP_FILE = textwrap.dedent("""
    import http.server
    import os
    import flyte.app

    app_env = flyte.app.AppEnvironment(
        name="greeter", port={port},
        parameters=[flyte.app.Parameter(name="greeting", value="hello", env_var="GREETING")],
    )

    @app_env.on_startup
    def warm(greeting: str) -> None:
        print("starting with", greeting, flush=True)

    @app_env.server
    def serve(greeting: str) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"{{greeting}} {{os.environ['GREETING']}} {{flyte.app.get_parameter('greeting')}} "
                body += flyte.app.ctx().mode
                self.send_response(200)
                self.end_headers()
                self.wfile.write(body.encode())

        http.server.HTTPServer(("127.0.0.1", {port}), Handler).serve_forever()

    @app_env.on_shutdown
    def bye() -> None:
        open({marker!r}, "w").write("stopped cleanly")
""")


def write_app(tmp_path: Path) -> tuple[Path, int, Path]:
    port, marker = free_port(), tmp_path / "shutdown.txt"
    path = tmp_path / "greeter_app.py"
    path.write_text(APP_FILE.format(port=port, marker=str(marker)))
    return path, port, marker


def test_command_app_answers_http_then_stops_leaving_nothing(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "index.html").write_text("served by a local process")
    env = flyte.app.AppEnvironment(name="static-site", port=port,
                                   command=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"])
    app = flyte.with_servecontext(mode="local", health_check_interval=0.1, health_check_path="/").serve(env)
    assert isinstance(app, flyte.AppHandle) and isinstance(app, LocalApp)
    pid = app.pid
    assert pid is not None
    try:
        app.activate(wait=True)
        assert app.is_active() and app.endpoint == f"http://localhost:{port}" == env.endpoint
        assert get(app.endpoint + "/index.html") == "served by a local process"
    finally:
        app.deactivate(wait=True)
    assert app.is_deactivated() and gone(pid) and not app.is_active()


def test_server_function_app_gets_its_parameters_and_shuts_down_cleanly(tmp_path: Path) -> None:
    path, port, marker = write_app(tmp_path)
    env = load_file(path, tmp_path).app_env
    app = flyte.with_servecontext(health_check_interval=0.1,
                                  parameter_values={"greeter": {"greeting": "bonjour"}}).serve(env)
    with app.ephemeral_ctx_sync():
        assert get(f"http://127.0.0.1:{port}/") == "bonjour bonjour bonjour local"
        pid = app.pid  # type: ignore[attr-defined]
    assert pid is not None and gone(pid)
    assert marker.read_text() == "stopped cleanly"  # SIGTERM reached the server as a clean stop


def test_serving_mistakes_are_explained(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        env = flyte.app.AppEnvironment(name="clash", port=port, command=["true"])
        with pytest.raises(FlyteUsageError, match=f"App 'clash': port {port} is already in use"):
            flyte.serve(env)
    with pytest.raises(FlyteUsageError, match="App 'empty' has no server function, command or args"):
        flyte.serve(flyte.app.AppEnvironment(name="empty", port=free_port()))
    with pytest.raises(FlyteUsageError, match="no Flyte control plane"):
        flyte.with_servecontext(mode="remote")
    with pytest.raises(ValueError, match="must consist of lower case"):
        flyte.app.AppEnvironment(name="Bad_Name")
    with pytest.raises(ValueError, match="port 9090 is not allowed"):
        flyte.app.AppEnvironment(name="reserved", port=9090)
    crash = flyte.app.AppEnvironment(name="crash", port=free_port(), command=[sys.executable, "-c", "exit(3)"])
    with pytest.raises(RuntimeError, match="App 'crash' exited with code 3 before it answered"):
        flyte.with_servecontext(health_check_interval=0.1).serve(crash).activate(wait=True)
    with pytest.raises(FlyteUsageError, match="AppEndpoint\\('nowhere'\\): no app named 'nowhere'"):
        flyte.app.AppEndpoint(app_name="nowhere").materialize()


def test_run_output_parameter_reads_the_local_run_store() -> None:
    env = flyte.TaskEnvironment("producer")

    @env.task
    def make() -> str:
        return "model-v7"

    flyte.init(backend="local")
    run = flyte.run(make)
    assert flyte.app.RunOutput(type="string", run_name=run.name).materialize() == "model-v7"
    assert flyte.app.RunOutput(type="string", task_name="producer.make").materialize() == "model-v7"


def test_flyte_serve_cli_serves_until_ctrl_c_and_leaves_no_process(tmp_path: Path) -> None:
    path, port, marker = write_app(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "serve", "--local", str(path), "app_env"],
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(line)
            if "is served at" in line or "Error" in line:
                break
        assert f"is served at http://localhost:{port}" in lines[-1], "".join(lines)
        app_pid = int(next(ln for ln in lines if "process" in ln).split("(process ")[1].split(")")[0])
        assert get(f"http://127.0.0.1:{port}/") == "hello hello hello local"
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        rest = proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest
    assert "App 'greeter' stopped." in rest
    assert gone(app_pid) and marker.read_text() == "stopped cleanly"
