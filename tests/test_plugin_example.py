"""The example third-party plugin (examples/plugin-example) works when installed like any package.

Entry points are read when a process builds its plugin manager, and an editable install only
reaches ``sys.path`` at interpreter start, so every check runs in a fresh interpreter.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "plugin-example"
DIST = "flyte-example-plugin"
#: Runs the ``flyte`` command with this interpreter (the console script may belong to another one).
FLYTE = [sys.executable, "-c", "from flyte_core.cli.main import main; main()"]


@pytest.fixture(scope="module")
def example_installed() -> None:
    """Install the example plugin (editable) unless it already is, e.g. by the nox session."""
    try:
        md.distribution(DIST)
        return
    except md.PackageNotFoundError:
        pass
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-e", str(EXAMPLE)]
    if importlib.util.find_spec("hatchling") is None:
        cmd.remove("--no-build-isolation")  # let pip fetch the build backend into an isolated env
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"installing {EXAMPLE} failed:\n{proc.stdout}\n{proc.stderr}"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FLYTE_DISABLE_PLUGIN_AUTOLOAD", "FLYTE_BLOCK_PLUGINS")}
    env.update(extra)
    return env


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=120)


def _plugins_json(cwd: Path, **env: str) -> dict[str, Any]:
    proc = _run([*FLYTE, "plugins", "--json"], cwd, **env)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _names(data: dict[str, Any]) -> set[str]:
    return {p["name"] for p in data["plugins"]}


def test_flyte_plugins_lists_the_example(example_installed: None, tmp_path: Path) -> None:
    """The entry point is found, its distribution named, and its hooks and backend listed."""
    data = _plugins_json(tmp_path)
    by_name = {p["name"]: p for p in data["plugins"]}
    assert "example" in by_name, data
    example = by_name["example"]
    assert example["distribution"] == DIST
    assert example["version"] == "0.1.0"
    assert set(example["hooks"]) == {
        "flyte_type_transformer", "flyte_action_event", "flyte_register_backends", "flyte_add_cli_commands",
    }
    assert data["backends"]["example-echo"] == "example"
    assert data["backends"]["local"] == "local"
    assert data["failures"] == []


def test_money_round_trips_on_the_example_backend(example_installed: None, tmp_path: Path) -> None:
    """flyte_type_transformer converts Money, flyte_register_backends provides "example-echo",
    and flyte_action_event sees every action of the run."""
    script = tmp_path / "shop.py"
    script.write_text(textwrap.dedent("""
        import json

        import flyte
        from flyte_core.run.session import Session
        from flyte_example_plugin import EVENTS, Money

        env = flyte.TaskEnvironment(name="shop")

        @env.task
        def double(m: Money) -> Money:
            return Money(m.amount * 2, m.currency)

        @env.task
        def checkout(m: Money) -> Money:
            return double(m)

        session = Session(backend="example-echo", data_url="data", run_store="runs.db")
        try:
            run = session.run(checkout, Money(21, "EUR"))
            out = run.outputs()[0]
            print(json.dumps({
                "type": type(out).__name__,
                "out": out.to_payload(),
                "backend": run.record.backend,
                "input": run.record.inputs["m"],
                "actions": sorted({e.action.action for e in EVENTS}),
                "tasks": sorted({e.action.task for e in EVENTS}),
                "phases": sorted({e.phase.value for e in EVENTS}),
                "runs": sorted({e.run for e in EVENTS}),
                "run": run.name,
            }))
        finally:
            session.close()
    """))
    proc = _run([sys.executable, str(script)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["type"] == "Money"
    assert got["out"] == {"amount": 42, "currency": "EUR"}
    assert got["backend"] == "example-echo"
    assert got["input"] == {"t": "example.money", "v": 1, "d": {"amount": 21, "currency": "EUR"}}
    assert got["runs"] == [got["run"]]
    assert len(got["actions"]) == 2  # checkout and its child double
    assert [t.rsplit(".", 1)[-1] for t in got["tasks"]] == ["checkout", "double"]
    assert {"running", "succeeded"} <= set(got["phases"])


def test_cli_command_from_plugin(example_installed: None, tmp_path: Path) -> None:
    """flyte_add_cli_commands adds `flyte example-hello`."""
    proc = _run([*FLYTE, "example-hello"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "hello from example plugin"


def test_autoload_disabled_skips_entry_points(example_installed: None, tmp_path: Path) -> None:
    """FLYTE_DISABLE_PLUGIN_AUTOLOAD leaves only the core built-ins: no example, no backends."""
    data = _plugins_json(tmp_path, FLYTE_DISABLE_PLUGIN_AUTOLOAD="1")
    assert "example" not in _names(data)
    assert "example-echo" not in data["backends"]
    assert "flyte_core.types.builtins" in _names(data)
    proc = _run([*FLYTE, "example-hello"], tmp_path, FLYTE_DISABLE_PLUGIN_AUTOLOAD="1")
    assert proc.returncode != 0
    assert "hello from example plugin" not in proc.stdout


def test_blocked_plugin_is_not_loaded(example_installed: None, tmp_path: Path) -> None:
    """FLYTE_BLOCK_PLUGINS=example removes exactly that plugin; the local backend stays."""
    data = _plugins_json(tmp_path, FLYTE_BLOCK_PLUGINS="example")
    assert "example" not in _names(data)
    assert "example-echo" not in data["backends"]
    assert "local" in _names(data)
    assert data["backends"]["local"] == "local"


def _fake_broken_dist(root: Path) -> None:
    """A distribution on ``root`` whose ``flyte`` entry point fails to import."""
    (root / "flyte_broken_plugin.py").write_text(
        'raise ImportError("flyte_broken_plugin needs the package missing-dependency")\n'
    )
    info = root / "flyte_broken_plugin-0.3.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: flyte-broken-plugin\nVersion: 0.3.0\n")
    (info / "entry_points.txt").write_text("[flyte]\nbroken = flyte_broken_plugin\n")


def test_broken_plugin_is_reported_and_others_load(example_installed: None, tmp_path: Path) -> None:
    """A plugin that raises on import is listed under failures with its names and a hint."""
    site = tmp_path / "site"
    site.mkdir()
    _fake_broken_dist(site)
    pythonpath = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    data = _plugins_json(tmp_path, PYTHONPATH=pythonpath)
    assert {"example", "local"} <= _names(data)
    assert "broken" not in _names(data)
    [failure] = data["failures"]
    assert failure["name"] == "broken"
    assert failure["distribution"] == "flyte-broken-plugin"
    assert failure["version"] == "0.3.0"
    assert failure["error"] == "ImportError: flyte_broken_plugin needs the package missing-dependency"
    assert "FLYTE_BLOCK_PLUGINS=broken" in failure["hint"]

    table = _run([*FLYTE, "plugins"], tmp_path, PYTHONPATH=pythonpath)
    assert table.returncode == 0, table.stderr
    assert "broken" in table.stdout and "failed to load" in table.stdout

    # Blocking the broken plugin silences it.
    data = _plugins_json(tmp_path, PYTHONPATH=pythonpath, FLYTE_BLOCK_PLUGINS="broken")
    assert data["failures"] == []


def test_the_example_plugins_own_tests_pass_when_installed(tmp_path: Path) -> None:
    """The example as its author ships it: built as a wheel and installed (``pip install --no-deps
    --target``, leaving this environment as it is), then its own tests (written with
    flyte_core.testing) run in a copy of its folder, as in the author's repository."""
    import shutil

    site, repo = tmp_path / "site", tmp_path / "flyte-example-plugin"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(repo)]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.insert(4, "--no-build-isolation")  # the build backend is here: no index needed
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"installing {repo} failed:\n{proc.stdout}\n{proc.stderr}"
    assert any(site.glob("flyte_example_plugin-*.dist-info/entry_points.txt")), "the wheel has no entry points"
    shutil.rmtree(repo / "flyte_example_plugin")  # the tests must use the installed package
    pythonpath = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=repo,
                           env=_env(PYTHONPATH=pythonpath), capture_output=True, text=True, timeout=600)
    assert tests.returncode == 0, f"the example's own tests failed:\n{tests.stdout[-4000:]}\n{tests.stderr[-2000:]}"
    assert " passed" in tests.stdout and "failed" not in tests.stdout, tests.stdout[-2000:]
