"""What a plugin's own tests use, in the plugin's repository: an isolated plugin manager, a recorder
of hook calls, a temporary project with a config file, and the ``flyte`` command line.

The pytest plugin (:mod:`flyte_core.testing.plugin`) wraps these as fixtures (``flyte_plugins``,
``hook_recorder``, ``flyte_project``); import them from ``flyte_core.testing`` for other uses.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import yaml

from flyte_core.config.files import CONFIG_ENV
from flyte_core.plugins.manager import PluginSet, make_plugin_set

if TYPE_CHECKING:
    import click


def make_plugins(*plugins: Any, autoload: bool = False, block: Iterable[str] = ()) -> PluginSet:
    """A plugin manager of its own: the core's built-in plugins, then ``plugins`` (modules, objects
    or dotted names); installed plugins (entry points) only with ``autoload=True``. What a session
    builds, without touching any other session's or the process's plugins."""
    return make_plugin_set(autoload=autoload, plugins=plugins, block=block)


@attrs.frozen
class HookCall:
    """One call of a hook: its name, keyword arguments, and what it returned (or raised)."""

    hook: str
    kwargs: Mapping[str, Any]
    result: Any = None
    error: BaseException | None = None


class HookRecorder:
    """Records every hook call of one plugin manager (pluggy's hook-call monitoring), in the order
    the calls return (hooks are called from the threads of runs too: appending is thread-safe).

    ``recorder.calls`` holds :class:`HookCall`s; :meth:`named` the calls of one hook. Stop it with
    :meth:`close` (the fixture does).
    """

    def __init__(self, plugins: PluginSet) -> None:
        self.calls: list[HookCall] = []

        def before(hook: str, impls: Any, kwargs: Mapping[str, Any]) -> None:
            pass  # a call is recorded once it returned, with its result

        def after(outcome: Any, hook: str, impls: Any, kwargs: Mapping[str, Any]) -> None:
            error = outcome.exception
            self.calls.append(HookCall(hook, dict(kwargs), None if error else outcome.get_result(), error))

        self._undo = plugins.pm.add_hookcall_monitoring(before, after)

    def named(self, hook: str) -> list[HookCall]:
        """The recorded calls of ``hook`` (e.g. ``"flyte_action_event"``), in order."""
        return [c for c in self.calls if c.hook == hook]

    def hooks(self) -> list[str]:
        """The names of the hooks called, in order, one entry per call."""
        return [c.hook for c in self.calls]

    def close(self) -> None:
        """Stop recording (again is harmless)."""
        undo, self._undo = self._undo, lambda: None
        undo()


def write_project(root: Path, files: Mapping[str, str] = {}, config: Mapping[str, Any] | None = None) -> Path:
    """A project folder at ``root`` as ``flyte`` finds one: ``.flyte/config.yaml`` holding ``config``
    (defaults: the ``local`` backend, data and runs under ``root/.flyte``) and ``files`` (relative
    path -> text, e.g. ``{"tasks.py": ...}``). Returns the config file's path."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    state = root / ".flyte"
    state.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {"backend": "local",
                                "storage": {"data": str(state / "data"), "runs": str(state / "runs.db")}}
    settings.update(config or {})
    path = state / "config.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return path


@contextmanager
def in_project(root: Path) -> Iterator[Path]:
    """Work in project ``root`` (made by :func:`write_project`): the current folder and
    ``$FLYTE_CONFIG`` point at it until the block ends."""
    saved_cwd, saved_config = Path.cwd(), os.environ.get(CONFIG_ENV)
    os.chdir(root)
    os.environ[CONFIG_ENV] = str(root / ".flyte" / "config.yaml")
    try:
        yield root
    finally:
        os.chdir(saved_cwd)
        if saved_config is None:
            os.environ.pop(CONFIG_ENV, None)
        else:
            os.environ[CONFIG_ENV] = saved_config


def flyte_cli() -> click.Group:
    """The ``flyte`` command (built-in commands and every loaded plugin's), for ``click.testing.CliRunner``."""
    from flyte_core.cli.main import build

    return build()
