"""The ``flyte`` command's own commands by name, each imported when it is used: ``flyte runs list``
imports the ``runs`` commands only (not ``run``'s type engine or ``build``'s image machinery)."""

from __future__ import annotations

import importlib

import click

#: Built-in command name -> (module, attribute, summary), in the order ``flyte --help`` lists them.
#: The summary (the command's help up to its first blank line) is what ``flyte --help`` shows
#: without importing the command; ``tests/test_cli_lazy.py`` holds it to the command's own help.
BUILTIN: dict[str, tuple[str, str, str]] = {
    "run": ("flyte_core.cli.run_cmd", "run_cmd", "Run a task of FILE: `flyte run examples/tasks.py pipeline --x 3`."),
    "runs": ("flyte_core.cli.runs_cmd", "runs_cmd", "List runs and look at one run's actions and logs."),
    "plugins": ("flyte_core.cli.plugins_cmd", "plugins_cmd",
                "List loaded plugins, the hooks they implement, the backends available, and broken plugins."),
    "cache": ("flyte_core.cli.cache_cmd", "cache_cmd", "Cached task outputs."),
    "secrets": ("flyte_core.cli.secrets_cmd", "secrets_cmd",
                "Secrets for tasks (``flyte.Secret``), kept in $FLYTE_HOME/secrets.json, readable only by you."),
    "build": ("flyte_core.cli.build_cmd", "build_cmd",
              "Build the images of FILE's environments (all of them, or those named ENVS) with the session's "
              "image builder, so the next run on docker or kubernetes starts without building."),
    "create": ("flyte_core.cli.build_cmd", "create_cmd", "Create flyte-core files (configuration)."),
}


def builtin_command(name: str) -> click.Command:
    """The built-in command ``name`` (a key of :data:`BUILTIN`), imported now."""
    module, attr, _ = BUILTIN[name]
    command = getattr(importlib.import_module(module), attr)
    assert isinstance(command, click.Command)
    return command


def add_builtin_commands(cli: click.Group) -> None:
    """Add every built-in command to ``cli``, unless ``cli`` imports them itself when they are used
    (its ``lazy_builtins`` is true, as the ``flyte`` group's is)."""
    if getattr(cli, "lazy_builtins", False):
        return
    for name in BUILTIN:
        cli.add_command(builtin_command(name))


def listed(name: str) -> click.Command:
    """A stand-in for the built-in command ``name`` that only lists it (its summary as its help),
    for ``flyte --help`` to show without importing the command."""
    return click.Command(name, help=BUILTIN[name][2])
