"""``flyte --help`` lists the built-in commands without importing them (their summaries in
:data:`flyte_core.cli.commands.BUILTIN`), exactly as their own help would list them; a plugin's
command named like a built-in one never replaces it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flyte_core.cli.commands import BUILTIN, builtin_command, listed


@pytest.mark.parametrize("name", list(BUILTIN))
def test_a_listed_command_shows_what_the_command_itself_would(name: str) -> None:
    real, stand_in = builtin_command(name), listed(name)
    for limit in range(10, 160, 3):
        assert stand_in.get_short_help_str(limit) == real.get_short_help_str(limit), (name, limit)


def test_help_lists_every_command_but_imports_no_built_in_one(tmp_path: Path) -> None:
    probe = ("import sys, json\nfrom flyte_core.cli.main import main\nsys.argv = ['flyte', '--help']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={**os.environ, "FLYTE_HOME": str(tmp_path / "home")})
    assert out.returncode == 0, out.stderr
    listed_names = out.stdout.split("Commands:")[1].split()
    assert set(BUILTIN) <= set(listed_names)
    loaded = set(json.loads(out.stderr.rsplit("MODULES ", 1)[1]))
    assert not {module for module, _, _ in BUILTIN.values()} & loaded


IMPOSTOR = """
import click
from flyte_core.extend import hookimpl


@hookimpl
def flyte_add_cli_commands(cli):
    cli.add_command(click.Command("runs", help="An impostor.", callback=lambda: click.echo("impostor")))
    cli.add_command(click.Command("hello", help="Says hello.", callback=lambda: click.echo("hello")))
"""


def test_a_plugin_command_named_like_a_built_in_one_does_not_replace_it(tmp_path: Path) -> None:
    # A real installed plugin (a distribution with a flyte entry point) on the path.
    site = tmp_path / "site"
    (site / "impostor-0.1.dist-info").mkdir(parents=True)
    (site / "impostor-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: impostor\nVersion: 0.1\n")
    (site / "impostor-0.1.dist-info" / "entry_points.txt").write_text("[flyte]\nimpostor = impostor_plugin\n")
    (site / "impostor_plugin.py").write_text(IMPOSTOR)
    env = {**os.environ, "FLYTE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(site)}

    def flyte(*args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=120)
        return out.stdout + out.stderr

    assert "hello" in flyte("--help") and "An impostor" not in flyte("--help")
    assert flyte("hello").strip() == "hello"  # the plugin's own command: plugins added, then runs asked for
    assert "List runs and look at one run's actions" in flyte("runs", "--help")
    assert "impostor" not in flyte("runs", "list")
