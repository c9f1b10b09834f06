"""A conformance suite every plugin distribution runs against its entry point::

    from flyte_core.testing.plugins import PluginSuite

    class TestExamplePlugin(PluginSuite):
        entry_point = "example"

It checks what any plugin owes the processes that load it, whatever it contributes: the entry point
is installed in the group ``flyte``; its object loads into an isolated plugin manager, implements
at least one hook and only hooks flyte-core defines; each hook implementation is documented; and
importing it starts no thread (every ``flyte`` command and worker process imports it).
"""

from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys
from typing import Any, ClassVar

import pytest

from flyte_core.plugins.manager import ENTRY_POINT_GROUP
from flyte_core.testing.kit import make_plugins


class PluginSuite:
    """Subclass as ``Test...`` and set :attr:`entry_point` to the plugin's entry-point name."""

    #: The name of the plugin's entry point in the group ``flyte`` (``flyte plugins`` lists it).
    entry_point: ClassVar[str] = ""

    @pytest.fixture
    def entry(self) -> md.EntryPoint:
        """The installed entry point."""
        assert self.entry_point, f"{type(self).__name__} sets no entry_point"
        found = [ep for ep in md.entry_points(group=ENTRY_POINT_GROUP) if ep.name == self.entry_point]
        assert found, (f"no entry point {self.entry_point!r} in group {ENTRY_POINT_GROUP!r}: is the distribution "
                       "installed (pip install -e .) and its [project.entry-points.flyte] table right?")
        return found[0]

    def test_loads_into_an_isolated_plugin_manager(self, entry: md.EntryPoint) -> None:
        """The object loads and registers; a hook name flyte-core does not define is an error."""
        plugin = entry.load()
        assert self.hooks(plugin), f"plugin {self.entry_point!r} implements no flyte hook"

    def test_every_hook_implementation_is_documented(self, entry: md.EntryPoint) -> None:
        """Each hook implementation has a docstring (for readers, and ``help()`` in a REPL)."""
        plugin = entry.load()
        plugins = make_plugins(plugin)
        impls = [impl for caller in plugins.pm.get_hookcallers(plugin) or () for impl in caller.get_hookimpls()
                 if impl.plugin is plugin]
        missing = [impl.function.__qualname__ for impl in impls if not (impl.function.__doc__ or "").strip()]
        assert not missing, f"hook implementations without a docstring in plugin {self.entry_point!r}: {missing}"

    def test_import_starts_no_thread(self, entry: md.EntryPoint) -> None:
        """Importing the plugin's module in a fresh interpreter leaves one thread running."""
        module = entry.value.split(":")[0]
        code = f"import threading, {module}; print(threading.active_count())"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "1", f"importing {module} started threads: {proc.stdout.strip()} running"

    def hooks(self, plugin: Any) -> list[str]:
        """The hooks ``plugin`` implements, read from an isolated plugin manager holding it."""
        plugins = make_plugins(plugin)
        return sorted(h.name for h in plugins.pm.get_hookcallers(plugin) or ())
