"""Workers load the session's plugins: the refs a session hands its workers, and how a worker loads
them (a named plugin it cannot import is reported, not fatal)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.plugins.manager import PluginRefs, load_plugin_refs, process_plugins
from flyte_core.run.session import Session
from flyte_core.task.kinds import TaskKindRegistry


class Kinds:
    """A plugin object at module level: workers find it as ``module:attr``."""

    @hookimpl
    def flyte_register_task_kinds(self, registry: TaskKindRegistry) -> None:
        registry.add(complex, lambda task, kwargs, config: "ran")


KINDS = Kinds()


@pytest.fixture
def plugin_module() -> types.ModuleType:
    """An importable plugin module (as one in the project folder would be)."""
    module = types.ModuleType("flyte_test_worker_plugin")
    module.flyte_register_task_kinds = hookimpl(lambda registry: registry.add(bytes, lambda t, k, c: "b"))
    sys.modules[module.__name__] = module
    yield module
    sys.modules.pop(module.__name__, None)


def test_a_default_session_hands_workers_the_default(tmp_path: Path) -> None:
    s = Session(run_store=str(tmp_path / "r.db"), root_dir=tmp_path)
    try:
        assert s.plugins.refs() == PluginRefs(autoload=True, named=(), blocked=())
        assert load_plugin_refs(s.plugins.refs()) is process_plugins()  # a worker reuses its process's set
    finally:
        s.close()


def test_named_plugins_are_carried_by_reference(tmp_path: Path, plugin_module: types.ModuleType) -> None:
    unreachable = Kinds()  # made here: no module-level name a worker could import it by
    s = Session(run_store=str(tmp_path / "r.db"), root_dir=tmp_path, autoload_plugins=False,
                plugins=(plugin_module, KINDS, unreachable))
    try:
        refs = s.plugins.refs()
        assert refs == PluginRefs(autoload=False, named=("flyte_test_worker_plugin", f"{__name__}:KINDS"))
        worker = load_plugin_refs(refs)
        kinds = TaskKindRegistry()
        worker.fill_registry("flyte_register_task_kinds", kinds)
        assert set(kinds.names()) == {bytes, complex} and worker.failures == []
    finally:
        s.close()


def test_a_named_plugin_a_worker_cannot_import_is_reported() -> None:
    worker = load_plugin_refs(PluginRefs(autoload=False, named=("no_such_plugin_module",)))
    (failure,) = worker.failures
    assert failure.name == "no_such_plugin_module" and "ModuleNotFoundError" in failure.error
    assert "project folder" in failure.hint


def test_a_worker_builds_only_the_set_its_session_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """A session blocking a plugin its workers' environment does not block: the worker loads the
    installed plugins once, for that set, not first for its process's own set to compare refs."""
    from flyte_core.plugins import manager

    monkeypatch.delenv(manager.BLOCK_ENV, raising=False)
    monkeypatch.delenv(manager.DISABLE_AUTOLOAD_ENV, raising=False)
    monkeypatch.setattr(manager, "_process_sets", {})
    worker = load_plugin_refs(PluginRefs(autoload=True, blocked=("example",)))
    assert manager._process_sets == {}  # the process's own set was never built
    assert worker.refs() == PluginRefs(autoload=True, blocked=("example",)) and worker.pm.is_blocked("example")
    assert load_plugin_refs(PluginRefs(autoload=True)) is process_plugins()  # the same refs: the process's set
    assert manager._process_refs() == process_plugins().refs()
