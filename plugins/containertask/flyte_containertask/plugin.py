"""The plugin module of flyte-containertask (entry point group ``flyte``).

A ContainerTask runs through its own function (the local Docker engine), and container backends run it
as a :class:`flyte_core.task.rawcontainer.RawContainerTask`: no hook for that. The one hook registers the
:class:`~flyte_containertask.sleep.Sleep` task kind (``flyte.extras.Sleep``).
"""

from __future__ import annotations

from flyte_core.extend import TaskKindRegistry, hookimpl


@hookimpl
def flyte_register_task_kinds(registry: TaskKindRegistry) -> None:
    """Tasks with ``plugin_config=flyte.extras.Sleep()`` wait for their duration input, then run."""
    from flyte_containertask.sleep import Sleep, run_sleep

    registry.add(Sleep, run_sleep)
