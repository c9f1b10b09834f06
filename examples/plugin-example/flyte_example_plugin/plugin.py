"""The hook implementations flyte-core finds through the entry point ``example``.

Importing this module must stay cheap and must not fail when optional pieces are missing:
heavier imports (the backend) happen inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flyte_core.extend import hookimpl
from flyte_example_plugin.money import Money

if TYPE_CHECKING:
    import click

    from flyte_core.extend import ActionEvent, Backend, BackendRegistry, TypeTransformer

#: Every action event this plugin was told about, oldest first (at least the last MAX_EVENTS).
EVENTS: list[ActionEvent] = []
#: How many events :data:`EVENTS` keeps at least, so a long-lived process does not grow without bound
#: (it is trimmed back to this many when it holds twice as many: trimming at every event would move
#: the whole list each time).
MAX_EVENTS = 10_000


@hookimpl
def flyte_type_transformer(python_type: Any, hint: Any) -> TypeTransformer | None:
    """Handle ``Money``; return None for every other type so other plugins are asked."""
    if python_type is Money:
        from flyte_example_plugin.transformer import MONEY

        return MONEY
    return None


@hookimpl
def flyte_action_event(event: ActionEvent) -> None:
    """Record the event (called on the controller's event thread; appending is fast and safe)."""
    EVENTS.append(event)
    if len(EVENTS) > 2 * MAX_EVENTS:
        del EVENTS[: len(EVENTS) - MAX_EVENTS]


def _echo_backend(options: Mapping[str, Any]) -> Backend:
    from flyte_example_plugin.backend import EchoBackend

    return EchoBackend(options)


@hookimpl
def flyte_register_backends(registry: BackendRegistry) -> None:
    """Register the ``example-echo`` backend's factory (called once per run with its options)."""
    registry.add("example-echo", _echo_backend)


@hookimpl
def flyte_add_cli_commands(cli: click.Group) -> None:
    """Add ``flyte example-hello``."""
    import click  # only the command line needs it: a task's worker loads this plugin too

    @click.command("example-hello")
    def example_hello() -> None:
        """Say hello (shows how a plugin adds a command to ``flyte``)."""
        click.echo("hello from example plugin")

    cli.add_command(example_hello)
