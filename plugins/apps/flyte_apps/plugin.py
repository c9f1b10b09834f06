"""Registers ``flyte serve`` as any third-party plugin would."""

from __future__ import annotations

import click

from flyte_core.extend import hookimpl


@hookimpl
def flyte_add_cli_commands(cli: click.Group) -> None:
    """``flyte serve [--local] FILE [APP]``."""
    from flyte_apps.cli import serve_cmd

    cli.add_command(serve_cmd)
