"""Task kinds: plugins that run tasks with a given ``plugin_config`` type their own way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flyte_core.plugins.registry import Registry

#: Called with (task, kwargs, plugin_config) instead of the task's function; returns its result.
TaskKindRunner = Callable[[Any, dict[str, Any], Any], Any]


class TaskKindRegistry(Registry[type, TaskKindRunner]):
    """``plugin_config`` type to the runner for tasks that carry it."""

    def __init__(self) -> None:
        super().__init__("task kind")

    def runner_for(self, config: Any) -> TaskKindRunner | None:
        """The runner registered for ``type(config)`` or one of its bases."""
        for cls in type(config).__mro__:
            found = self.find(cls)
            if found is not None:
                return found
        return None
