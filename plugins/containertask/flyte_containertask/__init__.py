"""flyte-containertask: ``flyte.extras.ContainerTask``, a task that runs an image's own command."""

from flyte_containertask.engine import ContainerTaskError
from flyte_containertask.task import ContainerTask

__all__ = ["ContainerTask", "ContainerTaskError"]
