"""Registers ``flyte serve`` as any third-party plugin would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core.extend import hookimpl

if TYPE_CHECKING:  # click comes with the command line; a task's worker loads this plugin without it
    import click


@hookimpl
def flyte_add_cli_commands(cli: click.Group) -> None:
    """``flyte serve [--local] FILE [APP]``."""
    from flyte_apps.cli import serve_cmd

    cli.add_command(serve_cmd)
