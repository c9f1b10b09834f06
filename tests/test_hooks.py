"""Hooks exercised through plugins registered on a session, as a third party would register them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

import flyte
from flyte_core.errors.core import PluginError, RuntimeUserError
from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.plugins.registry import Registry
from flyte_core.run.events import ActionEvent, RunEvent
from flyte_core.run.session import Session
from flyte_core.task.kinds import TaskKindRegistry


@attrs.frozen
class Shout:
    """A plugin_config: run the task and upper-case its result."""

    suffix: str = "!"


class ShoutPlugin:
    """Runs tasks whose plugin_config is a Shout, and records run and action events."""

    def __init__(self) -> None:
        self.runs: list[RunEvent] = []
        self.actions: list[ActionEvent] = []

    @hookimpl
    def flyte_register_task_kinds(self, registry: TaskKindRegistry) -> None:
        registry.add(Shout, lambda task, kwargs, cfg: task.func(**kwargs).upper() + cfg.suffix)

    @hookimpl
    def flyte_run_event(self, event: RunEvent) -> None:
        self.runs.append(event)

    @hookimpl
    def flyte_action_event(self, event: ActionEvent) -> None:
        self.actions.append(event)


shout_env = flyte.TaskEnvironment(name="shout", plugin_config=Shout("!!"))
plain_env = flyte.TaskEnvironment(name="plain")


@shout_env.task
def hello(name: str) -> str:
    return f"hello {name}"


@plain_env.task
def calls_hello(name: str) -> str:
    return hello(name)


def session(tmp_path: Path, *plugins: Any) -> Session:
    return Session(data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"), plugins=plugins)


def test_task_kind_plugin_runs_tasks_with_its_config(tmp_path: Path) -> None:
    plugin = ShoutPlugin()
    s = session(tmp_path, plugin)
    assert s.run(calls_hello, name="ann").outputs()[0] == "HELLO ANN!!"
    assert s.task_kinds.owner(Shout) == s.plugins.pm.get_name(plugin)


def test_run_and_action_events_reach_plugins_in_order(tmp_path: Path) -> None:
    plugin = ShoutPlugin()
    s = session(tmp_path, plugin)
    run = s.run(calls_hello, name="x")
    assert [e.phase.value for e in plugin.runs] == ["running", "succeeded"]
    assert all(e.run.name == run.name for e in plugin.runs)
    per_action: dict[str, list[str]] = {}
    for e in plugin.actions:
        per_action.setdefault(e.action.action, []).append(e.phase.value)
    assert per_action == {"a0": ["queued", "running", "succeeded"], "a0.1": ["queued", "running", "succeeded"]}


def test_unhandled_plugin_config_is_a_clear_error(tmp_path: Path) -> None:
    s = session(tmp_path)
    with pytest.raises(RuntimeUserError, match="no installed plugin runs that kind of task"):
        s.run(hello, name="x")


def test_registry_rejects_duplicates_naming_both_plugins() -> None:
    reg: Registry[str, int] = Registry("backend")
    reg._set_plugin("first")
    reg.add("x", 1)
    reg._set_plugin("second")
    with pytest.raises(PluginError, match="'x' is registered twice: by plugin 'first' and by plugin 'second'"):
        reg.add("x", 2)
    with pytest.raises(PluginError, match="No backend named 'y'; known: x"):
        reg.get("y")


def test_plugins_override_builtin_type_transformers(tmp_path: Path) -> None:
    from flyte_core.types import Converter

    class UpperStr:
        name = "upper-str"
        version = 1

        def compile(self, hint: Any, engine: Any) -> Converter:
            return Converter(self.name, 1, lambda v, c: v.upper(), lambda p, c: p, lambda v: isinstance(v, str))

    class Plugin:
        @hookimpl
        def flyte_type_transformer(self, python_type: Any, hint: Any) -> Any:
            return UpperStr() if python_type is str else None

    s = session(tmp_path, Plugin())
    env = flyte.TaskEnvironment(name="up")

    @env.task
    def ident(x: str) -> str:
        return x

    assert s.run(ident, x="abc").outputs()[0] == "ABC"


def test_image_builders_are_registered_by_plugins(tmp_path: Path) -> None:
    from flyte_core.images.builder import ImageBuilderRegistry, image_builders
    from flyte_core.images.spec import Image

    class Tagger:
        name = "tagger"

        def ensure(self, image: Image) -> str:
            return f"local/{image.tag}"

    class Plugin:
        @hookimpl
        def flyte_register_image_builders(self, registry: ImageBuilderRegistry) -> None:
            registry.add("tagger", lambda options: Tagger())

    s = session(tmp_path, Plugin())
    builder = image_builders(s.plugins).get("tagger")({})
    img = Image.from_debian_base().with_pip_packages("x")
    assert builder.ensure(img) == f"local/{img.tag}"


def test_run_interrupted_reaches_plugins_once_with_backend_options(tmp_path: Path) -> None:
    """When a reader finds a run whose controller died, ``flyte_run_interrupted`` lets each plugin
    clean up what it left; what they say is added to the run's error, once."""
    import socket
    import subprocess
    import sys
    import time

    from flyte_core.config.files import Config
    from flyte_core.runstore.records import Phase, RunRecord

    calls: list[tuple[str, str, dict[str, Any], str]] = []

    class Cleaner:
        @hookimpl
        def flyte_run_interrupted(self, run: RunRecord, options: dict[str, Any], store: str) -> str | None:
            calls.append((run.name, run.phase.value, dict(options), store))
            return f"removed 3 containers of run {run.name} (fake)"

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # a process that has exited: its pid names no controller
    config = Config(backends={"fake": {"namespace": "ns1"}})
    s = Session(config=config, plugins=(Cleaner(),), run_store=str(tmp_path / "runs.db"), autoload_plugins=False)
    now = time.time()
    s.runs.put_run(RunRecord(name="orphan", task="env.t", phase=Phase.RUNNING, backend="fake", created_at=now,
                             pid=pid, host=socket.gethostname(), heartbeat=now))
    rec = s.get_run("orphan")
    assert rec is not None and rec.phase.is_terminal and rec.error is not None
    assert "Cleaned up: removed 3 containers of run orphan (fake)." in rec.error.message
    assert calls == [("orphan", rec.phase.value, {"namespace": "ns1"}, s.store_key)]
    again = s.get_run("orphan")  # already settled: no second cleanup
    assert again is not None and len(calls) == 1
    s.close()


def test_the_run_store_key_names_one_store(tmp_path: Path) -> None:
    """Backends label what they create with the store's key (run names are unique per store only):
    every session of one store file has the same key, another file another key."""
    import re

    keys = []
    for path in (tmp_path / "a" / "runs.db", tmp_path / "a" / ".." / "a" / "runs.db", tmp_path / "b" / "runs.db"):
        s = Session(run_store=str(path), autoload_plugins=False)
        keys.append(s.store_key)
        s.close()
    assert keys[0] == keys[1] != keys[2] and all(re.fullmatch("[0-9a-f]{16}", k) for k in keys)
