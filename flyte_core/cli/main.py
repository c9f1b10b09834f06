"""``flyte``: the top-level command group. Plugins add commands through ``flyte_add_cli_commands``."""

from __future__ import annotations

import sys
from typing import Any

import click

from flyte_core import __version__
from flyte_core.cli.common import CliState, fail_usage
from flyte_core.errors import FlyteUsageError


class _FlyteGroup(click.Group):
    """Turns flyte-core usage errors into one clear line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FlyteUsageError as e:
            fail_usage(str(e))


@click.group(cls=_FlyteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flyte-core")
@click.option("-c", "--config", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: $FLYTE_CONFIG, ./.flyte/config.yaml, ~/.flyte/config.yaml).")
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """Run Flyte 2 tasks locally, in Docker or on Kubernetes."""
    ctx.obj = CliState(config_path=config)


def build() -> click.Group:
    """The full command tree: built-in commands, then commands added by plugins."""
    from flyte_core.cli.cache_cmd import cache_cmd
    from flyte_core.cli.plugins_cmd import plugins_cmd
    from flyte_core.cli.run_cmd import run_cmd
    from flyte_core.cli.runs_cmd import runs_cmd
    from flyte_core.cli.secrets_cmd import secrets_cmd

    cli.add_command(run_cmd)
    cli.add_command(runs_cmd)
    cli.add_command(plugins_cmd)
    cli.add_command(cache_cmd)
    cli.add_command(secrets_cmd)
    try:
        from flyte_core.plugins import make_plugin_set

        make_plugin_set().hook.flyte_add_cli_commands(cli=cli)
    except FlyteUsageError as e:
        click.echo(f"warning: plugin commands unavailable: {e}", err=True)
    return cli


def main() -> None:
    """Console-script entry point."""
    sys.exit(build().main(standalone_mode=True))
