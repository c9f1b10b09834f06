"""``flyte.extras.Sleep``: tasks that wait.

In Flyte 2, a task whose environment carries ``plugin_config=Sleep()`` is routed to the cluster's
``core-sleep`` plugin, which waits for the duration given as the task's input without starting a pod.
Here such a task waits for that duration with :func:`flyte.durable.sleep` (so a retry, or a run that
recovers this one, only waits for what is left), then runs the task's own body, on every backend.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
from typing import Any

import attrs

from flyte import durable
from flyte_core.extend import FlyteUsageError, TaskTemplate

__all__ = ["Sleep", "SleepTask", "run_sleep", "sleep_seconds"]

#: The input that holds the duration when a task has several numeric inputs.
DURATION_INPUT = "duration"


@dataclasses.dataclass
class Sleep:
    """The ``plugin_config`` of tasks that wait: ``flyte.TaskEnvironment("wait", plugin_config=Sleep())``.

    The duration is the task's input: its only ``timedelta``/``int``/``float`` input (seconds), or the
    one named ``duration``.
    """


@attrs.define(eq=False, slots=False)
class SleepTask(TaskTemplate[Any, Any]):
    """A task that waits (Flyte 2's class of tasks carrying :class:`Sleep`). ``@env.task`` on an
    environment with ``plugin_config=Sleep()`` makes a plain task that waits the same way; this class
    is for code that builds one directly (its ``plugin_config`` is always a :class:`Sleep`)."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if not isinstance(self.plugin_config, Sleep):
            self.plugin_config = Sleep()


def sleep_seconds(task_name: str, inputs: dict[str, Any]) -> float:
    """The duration a Sleep task waits, in seconds, from its inputs; a clear error when there is none."""
    def numeric(v: Any) -> bool:
        return isinstance(v, datetime.timedelta | int | float) and not isinstance(v, bool)

    if DURATION_INPUT in inputs and numeric(inputs[DURATION_INPUT]):
        value = inputs[DURATION_INPUT]
    else:
        found = [k for k, v in inputs.items() if numeric(v)]
        if len(found) != 1:
            raise FlyteUsageError(
                f"Task '{task_name}' is a Sleep task: it waits for the duration given as its input, so it needs "
                f"exactly one timedelta/int/float input (seconds) or one named '{DURATION_INPUT}'; "
                f"it got {', '.join(found) or 'none'}.")
        value = inputs[found[0]]
    seconds = value.total_seconds() if isinstance(value, datetime.timedelta) else float(value)
    if seconds < 0:
        raise FlyteUsageError(f"Task '{task_name}' is a Sleep task and was asked to wait {seconds} seconds; "
                              "give a duration of 0 or more.")
    return seconds


def run_sleep(task: TaskTemplate[Any, Any], inputs: dict[str, Any], config: Sleep) -> Any:
    """The task-kind runner of :class:`Sleep` tasks: wait (durably), then run the body."""
    seconds = sleep_seconds(task.name, inputs)
    if task.is_async:
        async def wait_then_run() -> Any:
            await durable.sleep.aio(seconds)
            result = task.func(**inputs)
            return await result if inspect.isawaitable(result) else result

        return wait_then_run()
    durable.sleep(seconds)
    return task.func(**inputs)
