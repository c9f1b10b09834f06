"""The ``flyte`` command's own commands by name, each imported when it is used: ``flyte runs list``
imports the ``runs`` commands only (not ``run``'s type engine or ``build``'s image machinery)."""

from __future__ import annotations

import importlib

import click

#: Built-in command name -> (module, attribute), in the order ``flyte --help`` lists them.
BUILTIN: dict[str, tuple[str, str]] = {
    "run": ("flyte_core.cli.run_cmd", "run_cmd"),
    "runs": ("flyte_core.cli.runs_cmd", "runs_cmd"),
    "plugins": ("flyte_core.cli.plugins_cmd", "plugins_cmd"),
    "cache": ("flyte_core.cli.cache_cmd", "cache_cmd"),
    "secrets": ("flyte_core.cli.secrets_cmd", "secrets_cmd"),
    "build": ("flyte_core.cli.build_cmd", "build_cmd"),
    "create": ("flyte_core.cli.build_cmd", "create_cmd"),
}


def builtin_command(name: str) -> click.Command:
    """The built-in command ``name`` (a key of :data:`BUILTIN`), imported now."""
    module, attr = BUILTIN[name]
    command = getattr(importlib.import_module(module), attr)
    assert isinstance(command, click.Command)
    return command


def add_builtin_commands(cli: click.Group) -> None:
    """Add every built-in command to ``cli``."""
    for name in BUILTIN:
        cli.add_command(builtin_command(name))
