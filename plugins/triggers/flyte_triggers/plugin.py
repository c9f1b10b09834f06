"""Registers ``flyte triggers`` (list, run, fire) as any third-party plugin would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core.extend import hookimpl

if TYPE_CHECKING:  # click comes with the command line; a task's worker loads this plugin without it
    import click


@hookimpl
def flyte_add_cli_commands(cli: click.Group) -> None:
    """``flyte triggers list|run|fire``."""
    from flyte_triggers.cli import triggers_cmd

    cli.add_command(triggers_cmd)
