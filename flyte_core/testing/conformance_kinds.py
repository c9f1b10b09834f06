"""A task-kind plugin of flyte-core's backend conformance suite (flyte_core.testing.backends).

The suite does not install it: it is written into the project folder next to the conformance tasks
and named to the session's plugins, as a program names a plugin of its own with
``Session(plugins=...)``. Tasks whose ``plugin_config`` is a :class:`Bracket` run through
:func:`run_bracketed` on every backend, so workers (processes, containers, pods) must load the
session's plugins as the session did.
"""

from __future__ import annotations

from typing import Any

import attrs

from flyte_core.extend import TaskKindRegistry, hookimpl


@attrs.frozen
class Bracket:
    """The ``plugin_config`` of tasks whose string result comes back between two marks."""

    mark: str = "*"


def run_bracketed(task: Any, kwargs: dict[str, Any], config: Bracket) -> str:
    """Run the task's own function, then put its result between ``config.mark``s."""
    return f"{config.mark}{task.func(**kwargs)}{config.mark}"


@hookimpl
def flyte_register_task_kinds(registry: TaskKindRegistry) -> None:
    """Tasks with ``plugin_config=Bracket(...)`` run through :func:`run_bracketed`."""
    registry.add(Bracket, run_bracketed)
