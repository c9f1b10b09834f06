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
    from flyte_core.cli.build_cmd import build_cmd, create_cmd
    from flyte_core.cli.cache_cmd import cache_cmd
    from flyte_core.cli.plugins_cmd import plugins_cmd
    from flyte_core.cli.run_cmd import run_cmd
    from flyte_core.cli.runs_cmd import runs_cmd
    from flyte_core.cli.secrets_cmd import secrets_cmd

    for command in (run_cmd, runs_cmd, plugins_cmd, cache_cmd, secrets_cmd, build_cmd, create_cmd):
        cli.add_command(command)
