"""flyte-containertask: ``flyte.extras``: ContainerTask (an image's own command as a task), shell tasks,
Sleep tasks, and the DynamicBatcher/TokenBatcher batching utilities."""

from flyte_containertask.batching import BatchStats, CostEstimator, DynamicBatcher, Prompt, TokenBatcher, TokenEstimator
from flyte_containertask.engine import ContainerTaskError
from flyte_containertask.sleep import Sleep, SleepTask
from flyte_containertask.task import ContainerTask

__all__ = ["BatchStats", "ContainerTask", "ContainerTaskError", "CostEstimator", "DynamicBatcher", "Prompt", "Sleep",
           "SleepTask", "TokenBatcher", "TokenEstimator"]
