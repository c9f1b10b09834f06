"""The plugin's hooks, checked with flyte_core.testing's kit: an isolated plugin manager, a hook
recorder, and a temporary project driven through the ``flyte`` command."""

from __future__ import annotations

from pathlib import Path

import click
import flyte_example_plugin.plugin as plugin
from click.testing import CliRunner
from flyte_example_plugin import EVENTS, Money

from flyte_core.extend import BackendRegistry, Phase, Session
from flyte_core.testing import HookRecorder, flyte_cli, make_plugins, write_project

SHOP = '''
import flyte
from flyte_example_plugin import Money

env = flyte.TaskEnvironment(name="shop")


@env.task
def double(m: Money) -> Money:
    return Money(m.amount * 2, m.currency)


@env.task
def checkout(amount: int) -> str:
    return repr(double(Money(amount, "EUR")))
'''


def test_the_plugin_registers_its_backend_and_command() -> None:
    plugins = make_plugins(plugin)
    registry = BackendRegistry()
    plugins.fill_registry("flyte_register_backends", registry)
    assert registry.names() == ["example-echo"] and registry.owner("example-echo") == plugins.pm.get_name(plugin)
    group = click.Group("flyte")
    plugins.hook.flyte_add_cli_commands(cli=group)
    assert "example-hello" in group.commands


def test_every_action_event_reaches_the_observer(tmp_path: Path) -> None:
    write_project(tmp_path, {"shop.py": SHOP})
    session = Session(backend="example-echo", autoload_plugins=False, plugins=(plugin,),
                      data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    recorder = HookRecorder(session.plugins)
    try:
        from flyte_core.extend import load_file

        shop = load_file(tmp_path / "shop.py", tmp_path)
        run = session.run(shop.checkout, 21)
        assert run.outputs()[0] == repr(Money(42, "EUR"))
        events = [c.kwargs["event"] for c in recorder.named("flyte_action_event")]
        assert {(e.action.action, e.phase) for e in events} >= {("a0", Phase.SUCCEEDED), ("a0.1", Phase.SUCCEEDED)}
        kept = EVENTS[-len(events):]
        assert all(a is b for a, b in zip(kept, events)), "the plugin keeps every event it is told, in order"
    finally:
        recorder.close()
        session.close()


def test_flyte_run_in_a_project(flyte_project: Path) -> None:
    """``flyte run --backend example-echo`` in a project folder with its own config."""
    (flyte_project / "shop.py").write_text(SHOP)
    result = CliRunner().invoke(flyte_cli(), ["run", "--backend", "example-echo", "shop.py", "checkout",
                                              "--amount", "5"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Money(amount=10, currency='EUR')" in result.output
    assert (flyte_project / ".flyte" / "runs.db").is_file()  # the project's config put the run store there


def test_the_hello_command() -> None:
    result = CliRunner().invoke(flyte_cli(), ["example-hello"])
    assert result.exit_code == 0 and result.output.strip() == "hello from example plugin"
