"""``flyte``: the top-level command group. Plugins add commands through ``flyte_add_cli_commands``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from flyte_core import __version__
from flyte_core.cli.commands import BUILTIN, builtin_command, listed
from flyte_core.cli.common import OUTPUT_FORMATS, CliState, fail_usage, set_verbosity
from flyte_core.errors.core import FlyteUsageError
from flyte_core.plugins.known import COMMANDS


class _FlyteGroup(click.Group):
    """Turns usage errors (flyte-core's and click's own: a missing or badly typed input) into one
    clear line and exit code 2, and names the package of a command whose plugin is missing.

    A built-in command is imported when it is used (:mod:`flyte_core.cli.commands`), not when it is
    listed (``--help`` shows its summary); the plugins' commands (``flyte_add_cli_commands``) are
    added when a name is not a built-in one or the commands are listed (``--help``, completion), so
    ``flyte runs list`` loads no plugin it does not use."""

    _plugin_commands_added = False
    #: The core's ``flyte_add_cli_commands`` leaves the built-in commands to this group.
    lazy_builtins = True

    def add_plugin_commands(self) -> None:
        """Add every plugin's commands (once); a command named like a built-in one does not replace it.
        When the plugins cannot be loaded, the built-in commands alone, with a warning."""
        if self._plugin_commands_added:
            return
        self._plugin_commands_added = True
        from flyte_core.plugins.manager import process_plugins

        builtins = {name: self.commands[name] for name in BUILTIN if name in self.commands}  # imported so far
        try:
            process_plugins().hook.flyte_add_cli_commands(cli=self)
        except FlyteUsageError as e:
            click.echo(f"warning: plugin commands unavailable: {e}", err=True)
        for name in BUILTIN:
            if name in builtins:
                self.commands[name] = builtins[name]
            else:
                self.commands.pop(name, None)  # get_command imports the built-in one

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FlyteUsageError as e:
            state = ctx.find_object(CliState)
            if state is not None and state.verbosity:  # -v: the whole story, then the one line
                import traceback

                traceback.print_exc()
            fail_usage(str(e))

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.add_plugin_commands()
        return sorted({*self.commands, *BUILTIN})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but a built-in command not imported yet is listed from its summary."""
        commands = [(name, self.commands.get(name) or listed(name)) if name in BUILTIN
                    else (name, self.get_command(ctx, name)) for name in self.list_commands(ctx)]
        shown = [(name, cmd) for name, cmd in commands if cmd is not None and not cmd.hidden]
        if shown:
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in shown])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd = super().get_command(ctx, cmd_name)
        if cmd is None and cmd_name in BUILTIN:
            cmd = builtin_command(cmd_name)
            self.add_command(cmd)
        if cmd is None:
            self.add_plugin_commands()
            cmd = super().get_command(ctx, cmd_name)
        if cmd is None and cmd_name in COMMANDS and not ctx.resilient_parsing:
            fail_usage(f"'flyte {cmd_name}' comes with a plugin that is not loaded; to use it, "
                       f"{COMMANDS[cmd_name].install_hint()}; `flyte plugins` lists plugins that failed to load.")
        return cmd

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            if not standalone_mode:
                raise
            if type(e).__name__ == "NoArgsIsHelpError":  # a bare group (click >= 8.2): its help, as click shows it
                e.show()
                sys.exit(e.exit_code)
            hint = f"; see `{e.ctx.command_path} --help`." if e.ctx is not None else "."
            fail_usage(e.format_message().rstrip(".") + hint)
        except click.ClickException as e:
            if not standalone_mode:
                raise
            e.show()
            sys.exit(e.exit_code)
        except click.Abort:
            if not standalone_mode:
                raise
            click.echo("Aborted!", err=True)
            sys.exit(1)
        if standalone_mode:
            sys.exit(rv if isinstance(rv, int) else 0)
        return rv


@click.group(cls=_FlyteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="flyte-core")
@click.option("-c", "--config", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: $FLYTE_CONFIG, ./.flyte/config.yaml, ~/.flyte/config.yaml).")
@click.option("-v", "--verbose", count=True, help="More log messages from flyte-core on stderr (-v: info, -vv: "
              "debug) and full tracebacks of failures.")
@click.option("-of", "--output-format", type=click.Choice(OUTPUT_FORMATS), default="table", show_default=True,
              help="Output of commands that print records or results: json/json-raw print JSON (as their --json).")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: int, output_format: str) -> None:
    """Run Flyte 2 tasks locally, in Docker or on Kubernetes."""
    ctx.obj = CliState(config_path=config, output_format=output_format, verbosity=verbose)
    if verbose:
        set_verbosity(verbose)


def build() -> click.Group:
    """The command tree: the built-in commands (:mod:`flyte_core.cli.commands`; the internal plugin
    :mod:`flyte_core.cli.builtin_commands` adds the same through the hook) and every other
    ``flyte_add_cli_commands`` implementation, each added when first needed (see ``_FlyteGroup``)."""
    cli._plugin_commands_added = False  # the plugins may have changed since the last build (tests)
    return cli


def main() -> None:
    """Console-script entry point."""
    build().main(prog_name="flyte", standalone_mode=True)  # also as `python -m flyte_core.cli`
