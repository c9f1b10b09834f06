"""The ``flyte`` command's own commands, added as a plugin through ``flyte_add_cli_commands``: the same
hook third-party plugins use (a core built-in plugin, so every plugin manager has it).

Import-light: the commands (click, rich) are imported when the hook is called, not when a plugin
manager registers this module (every worker process builds one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core.plugins.hookspecs import hookimpl

if TYPE_CHECKING:
    import click


@hookimpl(tryfirst=True)
def flyte_add_cli_commands(cli: click.Group) -> None:
    """Add run, runs, plugins, cache, secrets, build and create (before any plugin's commands)."""
    from flyte_core.cli.commands import add_builtin_commands

    add_builtin_commands(cli)
