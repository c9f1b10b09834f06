"""Registers ``flyte triggers`` (list, run, fire) as any third-party plugin would."""

from __future__ import annotations

import click

from flyte_core.extend import hookimpl


@hookimpl
def flyte_add_cli_commands(cli: click.Group) -> None:
    """``flyte triggers list|run|fire``."""
    from flyte_triggers.cli import triggers_cmd

    cli.add_command(triggers_cmd)
