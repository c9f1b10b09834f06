"""Builds plugin managers: hookspecs, core built-ins, entry points, named plugins.

Nothing here runs at import time. A process has one plugin manager of installed plugins,
:func:`process_plugins`, built on first use and shared by the command line, default sessions and
workers; a session that names plugins of its own (``Session(plugins=...)``) builds its own
manager, so two embedders in one process can load different plugins. Hooks are always called
through pluggy (``plugins.hook.flyte_...``), so its tracing, wrappers and monitoring see them.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import attrs
import pluggy

from flyte_core.errors.core import PluginError
from flyte_core.plugins import hookspecs
from flyte_core.plugins.entrypoints import FoundEntryPoint, entry_points
from flyte_core.plugins.registry import Registry

#: The single entry-point group every kind of flyte plugin uses.
ENTRY_POINT_GROUP = "flyte"
#: Set (to anything) to skip entry-point discovery; only core built-ins and named plugins load.
DISABLE_AUTOLOAD_ENV = "FLYTE_DISABLE_PLUGIN_AUTOLOAD"
#: Comma-separated plugin names never to load.
BLOCK_ENV = "FLYTE_BLOCK_PLUGINS"

_CORE_BUILTINS = ("flyte_core.types.builtins", "flyte_core.security.secrets", "flyte_core.cli.builtin_commands")


@attrs.frozen
class PluginInfo:
    """One loaded plugin: its name, distribution, version, and the hooks it implements."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]


@attrs.frozen
class PluginFailure:
    """An entry point that could not be loaded; the other plugins keep working."""

    name: str
    distribution: str | None
    version: str | None
    error: str
    hint: str


@attrs.frozen
class PluginRefs:
    """How to build a session's plugins again in a worker process (a container, a pod): whether
    entry points load, the plugins the session named (as importable ``module`` or ``module:attr``
    references) and the names it blocked. Carried by every worker spec, so a task whose
    ``plugin_config`` a session-named plugin handles runs the same way out of process."""

    autoload: bool = True
    named: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()


class PluginSet:
    """A session's plugin manager plus what was learnt while loading it."""

    def __init__(self, pm: pluggy.PluginManager, failures: list[PluginFailure]) -> None:
        self.pm = pm
        self.hook = pm.hook
        self.failures = failures
        self._dists: dict[str, tuple[str | None, str | None]] = {}
        self._autoload = True
        self._blocked: tuple[str, ...] = ()

    def refs(self) -> PluginRefs:
        """What a worker needs to load the same plugins as this set (see :class:`PluginRefs`);
        named plugins that are not importable by reference (an object made inside a function, a
        ``__main__`` script) are left out: workers cannot import them."""
        named = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None or name in _CORE_BUILTINS or self._dists.get(str(name), (None,))[0] is not None:
                continue  # blocked, the core's own, or an entry point (the worker finds those itself)
            ref = _import_ref(plugin)
            if ref is not None:
                named.append(ref)
        return PluginRefs(self._autoload, tuple(named), self._blocked)

    def infos(self) -> list[PluginInfo]:
        """Every loaded plugin with the hooks it implements (for ``flyte plugins``)."""
        out = []
        for name, plugin in self.pm.list_name_plugin():
            if name is None or plugin is None:
                continue
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or ()))
            dist, version = self._dists.get(name, ("flyte-core", _dist_version("flyte-core")))
            out.append(PluginInfo(name, dist, version, hooks))
        return out

    def register(self, plugin: Any, name: str | None = None) -> None:
        """Load one more plugin (a module or an object with hook implementations) into this set, as
        a test does with a set of its own (``flyte_core.testing.make_plugins``). A session's plugins
        grow with :meth:`Session.add_plugins <flyte_core.run.session.Session.add_plugins>` instead,
        which leaves the process's shared set alone."""
        self.pm.register(plugin, name=name)
        self._dists[str(self.pm.get_name(plugin))] = (None, None)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as e:
            self.pm.unregister(plugin)
            raise PluginError(f"A plugin implements a hook flyte-core does not define: {e}") from e

    def implements(self, hook_name: str) -> bool:
        """Whether any loaded plugin implements the hook ``hook_name``."""
        return bool(getattr(self.pm.hook, hook_name).get_hookimpls())

    def fill_registry(self, hook_name: str, registry: Registry[Any, Any]) -> None:
        """Call the ``flyte_register_*`` hook ``hook_name`` with ``registry``, through pluggy, one
        plugin at a time (a subset hook caller each, in pluggy's order, wrappers included), so the
        registry knows which plugin added what and names both plugins of a duplicate."""
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        plain = [i for i in impls if not (i.hookwrapper or i.wrapper)]
        for impl in reversed(plain):  # pluggy calls the last registered first
            others = [i.plugin for i in plain if i.plugin is not impl.plugin]
            registry._set_plugin(impl.plugin_name)
            try:
                self.pm.subset_hook_caller(hook_name, remove_plugins=others)(registry=registry)
            finally:
                registry._set_plugin("<unknown>")


def make_plugin_set(
    *,
    autoload: bool | None = None,
    plugins: Iterable[Any] = (),
    block: Iterable[str] = (),
) -> PluginSet:
    """Build a plugin manager.

    Order: hookspecs, core built-ins, entry points of group ``flyte`` (unless ``autoload`` is
    False or ``FLYTE_DISABLE_PLUGIN_AUTOLOAD`` is set), then ``plugins`` (module objects, objects
    or dotted ``module``/``module:attr`` names); names in ``block`` or ``FLYTE_BLOCK_PLUGINS`` are never loaded.
    A failing entry point is recorded in ``failures`` instead of stopping the others.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    blocked = _env_blocked() | set(block)
    for name in blocked:
        pm.set_blocked(name)
    for modname in _CORE_BUILTINS:
        pm.register(importlib.import_module(modname), name=modname)
    failures: list[PluginFailure] = []
    dists: dict[str, tuple[str | None, str | None]] = {}
    if autoload is None:
        autoload = not os.environ.get(DISABLE_AUTOLOAD_ENV)
    if autoload:
        for ep in _entry_points():
            dist, version = ep.dist, ep.version
            if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
                continue
            try:
                obj = ep.load()
                pm.register(obj, name=ep.name)
            except Exception as e:  # a broken plugin must not take the others down
                failures.append(
                    PluginFailure(
                        ep.name, dist, version, f"{type(e).__name__}: {e}",
                        f"reinstall or upgrade '{dist or ep.value}', or block it with "
                        f"{BLOCK_ENV}={ep.name}",
                    )
                )
                continue
            dists[ep.name] = (dist, version)
    for plugin in plugins:
        obj = _resolve_ref(plugin) if isinstance(plugin, str) else plugin
        pname: str | None = plugin if isinstance(plugin, str) else getattr(obj, "__name__", None)
        if (pname is not None and pm.is_blocked(pname)) or pm.is_registered(obj):
            continue  # blocked, or already loaded (an entry point naming the same module)
        pm.register(obj, name=pname)
        dists[str(pm.get_name(obj))] = (None, None)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        raise PluginError(f"A plugin implements a hook flyte-core does not define: {e}") from e
    ps = PluginSet(pm, failures)
    ps._dists = dists
    ps._autoload = bool(autoload)
    ps._blocked = tuple(sorted(blocked))
    return ps


#: The process's plugin sets, by what each is made of (see :func:`_process_refs`).
_process_sets: dict[PluginRefs, PluginSet] = {}
_process_lock = threading.Lock()


def process_plugins() -> PluginSet:
    """This process's plugin manager of installed plugins (entry points, unless
    ``FLYTE_DISABLE_PLUGIN_AUTOLOAD``; minus ``FLYTE_BLOCK_PLUGINS``), built once on first use."""
    key = _process_refs()
    with _process_lock:
        found = _process_sets.get(key)
        if found is None:
            found = _process_sets[key] = make_plugin_set()
        return found


def _env_blocked() -> set[str]:
    return {b.strip() for b in os.environ.get(BLOCK_ENV, "").split(",") if b.strip()}


def _process_refs() -> PluginRefs:
    """The refs of :func:`process_plugins`'s set, known without building it: entry points unless
    switched off, no named plugins, the blocked ones from the environment."""
    return PluginRefs(not os.environ.get(DISABLE_AUTOLOAD_ENV), (), tuple(sorted(_env_blocked())))


def load_plugin_refs(refs: PluginRefs) -> PluginSet:
    """The plugin set :meth:`PluginSet.refs` describes, in a worker: a named plugin that cannot be
    imported here is recorded in ``failures`` (with what to do) instead of failing every task."""
    # Compared before anything is built: a session that blocks or names plugins would otherwise
    # have every worker load the installed plugins twice (the process's set, then its own).
    if refs == _process_refs():
        return process_plugins()
    found: list[Any] = []
    failures: list[PluginFailure] = []
    for ref in refs.named:
        try:
            found.append(_resolve_ref(ref))
        except Exception as e:
            failures.append(PluginFailure(ref, None, None, f"{type(e).__name__}: {e}",
                                          f"the session names plugin '{ref}': put it in the project folder or "
                                          "install it where tasks run (the task image)"))
    ps = make_plugin_set(autoload=refs.autoload, plugins=found, block=refs.blocked)
    ps.failures.extend(failures)
    return ps


def _import_ref(plugin: Any) -> str | None:
    """``module`` or ``module:attr`` naming ``plugin`` at module level, or None."""
    if isinstance(plugin, ModuleType):
        name = plugin.__name__
        return name if name != "__main__" and sys.modules.get(name) is plugin else None
    modname = getattr(plugin, "__module__", None) or type(plugin).__module__
    module = sys.modules.get(modname)
    if module is None or modname == "__main__":
        return None
    attr = next((k for k, v in vars(module).items() if v is plugin), None)
    return f"{modname}:{attr}" if attr is not None else None


def _resolve_ref(ref: str) -> Any:
    modname, _, attr = ref.partition(":")
    module = importlib.import_module(modname)
    return getattr(module, attr) if attr else module


def _entry_points() -> list[FoundEntryPoint]:
    return entry_points(ENTRY_POINT_GROUP)  # sorted by name; remembered between processes


def _dist_version(dist: str) -> str | None:
    import importlib.metadata as md

    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None
