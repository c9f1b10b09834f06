"""Every hook call goes through pluggy (tracing, wrappers and monitoring see it), with one plugin
manager per process shared by the command line and default sessions, and the ``flyte`` command's own
commands added by an internal plugin through ``flyte_add_cli_commands``."""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import flyte_core.plugins.manager as plugins_module
from flyte_core.errors.core import PluginError
from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.plugins.manager import PluginSet, process_plugins
from flyte_core.run.backend import BackendRegistry
from flyte_core.run.session import Session
from flyte_core.testing import HookRecorder, flyte_cli, make_plugins


class FirstBackends:
    """Registers a backend named "first"."""

    @hookimpl
    def flyte_register_backends(self, registry: BackendRegistry) -> None:
        registry.add("first", lambda options: None)  # type: ignore[arg-type,return-value]


class SecondBackends:
    """Registers "second", and "first" again when told to."""

    def __init__(self, clash: bool = False) -> None:
        self.clash = clash

    @hookimpl
    def flyte_register_backends(self, registry: BackendRegistry) -> None:
        registry.add("second", lambda options: None)  # type: ignore[arg-type,return-value]
        if self.clash:
            registry.add("first", lambda options: None)  # type: ignore[arg-type,return-value]


class Wrapper:
    """A hook wrapper around backend registration: sees each call go by."""

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    @hookimpl(wrapper=True)
    def flyte_register_backends(self, registry: BackendRegistry) -> Generator[None, None, None]:
        yield
        self.seen.append(list(registry.names()))


def test_registry_hooks_are_pluggy_calls_and_know_each_plugin(flyte_plugins: PluginSet,
                                                                  hook_recorder: HookRecorder) -> None:
    first, second, wrapper = FirstBackends(), SecondBackends(), Wrapper()
    for plugin in (first, second, wrapper):
        flyte_plugins.pm.register(plugin)
    registry = BackendRegistry()
    flyte_plugins.fill_registry("flyte_register_backends", registry)
    assert registry.owner("first") == flyte_plugins.pm.get_name(first)
    assert registry.owner("second") == flyte_plugins.pm.get_name(second)
    # one pluggy call per implementing plugin, each seen by monitoring and by the wrapper
    calls = hook_recorder.named("flyte_register_backends")
    assert len(calls) == 2 and all(c.kwargs["registry"] is registry for c in calls)
    assert wrapper.seen == [["second"], ["second", "first"]]  # pluggy's order: the last registered first


def test_a_duplicate_names_both_plugins() -> None:
    first, second = FirstBackends(), SecondBackends(clash=True)
    ps = make_plugins(first, second)
    with pytest.raises(PluginError, match=r"registered twice: by plugin '.*' and by plugin '.*'") as ei:
        ps.fill_registry("flyte_register_backends", BackendRegistry())
    assert ps.pm.get_name(first) in str(ei.value) and ps.pm.get_name(second) in str(ei.value)


def test_default_sessions_share_the_process_plugin_manager(tmp_path: Path) -> None:
    a = Session(run_store=str(tmp_path / "a.db"), root_dir=tmp_path)
    b = Session(run_store=str(tmp_path / "b.db"), root_dir=tmp_path)
    own = Session(run_store=str(tmp_path / "c.db"), root_dir=tmp_path, plugins=(FirstBackends(),))
    try:
        assert a.plugins is b.plugins is process_plugins()
        assert own.plugins is not process_plugins() and "first" in own.backends
        a.add_plugins(SecondBackends())  # a session of its own from now on; the shared one is untouched
        assert "second" in a.backends and a.plugins is not process_plugins()
        assert "second" not in b.backends and "local" in a.backends
    finally:
        for s in (a, b, own):
            s.close()


def test_the_cli_builds_one_plugin_manager(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``flyte plugins`` in a fresh process: its commands and its session come from one manager."""
    built: list[PluginSet] = []
    make = plugins_module.make_plugin_set

    def counting(**kwargs: Any) -> PluginSet:
        built.append(make(**kwargs))
        return built[-1]

    monkeypatch.setattr(plugins_module, "_process_sets", {})
    monkeypatch.setattr(plugins_module, "make_plugin_set", counting)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(flyte_cli(), ["plugins", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(built) == 1, f"the flyte command built {len(built)} plugin managers"
    listed: Mapping[str, Any] = {p["name"]: p for p in json.loads(result.output)["plugins"]}
    assert listed["flyte_core.cli.builtin_commands"]["hooks"] == ["flyte_add_cli_commands"]


def test_builtin_commands_come_through_the_hook(flyte_plugins: PluginSet, hook_recorder: HookRecorder) -> None:
    import click

    group = click.Group("flyte")
    flyte_plugins.hook.flyte_add_cli_commands(cli=group)
    assert {"run", "runs", "plugins", "cache", "secrets", "build", "create"} <= set(group.commands)
    assert hook_recorder.hooks() == ["flyte_add_cli_commands"]
