"""Registers the ``flyte ui`` command with flyte-core (entry point ``ui`` in group ``flyte``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core.extend import hookimpl

if TYPE_CHECKING:
    import click


@hookimpl
def flyte_add_cli_commands(cli: click.Group) -> None:
    """Add ``flyte ui``."""
    from flyte_ui.cli import ui_cmd

    cli.add_command(ui_cmd)
