"""Tasks that run an image's own command instead of a Python function (``flyte.extras.ContainerTask``).

A task object that implements :class:`RawContainerTask` tells a container backend how to run it: the
backend decodes the action's inputs, asks for a :class:`ContainerCall` (the task stages its inputs as
files under a host folder), runs that image with those mounts, then asks the task to read its outputs
back from the folder. The core defines only this contract; the plugin that provides the task type
decides the file layout.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs


@attrs.frozen
class ContainerCall:
    """One run of a raw container: the image reference to run as it is, its full command, and the
    bind mounts (host folder or file -> path in the container)."""

    image: str
    command: list[str]
    mounts: Mapping[str, str] = attrs.field(factory=dict)


@runtime_checkable
class RawContainerTask(Protocol):
    """A task a container backend runs as ``image`` + ``command`` with its inputs and outputs as files."""

    name: str

    def container_call(self, inputs: dict[str, Any], host_dir: str) -> ContainerCall:
        """Stage ``inputs`` (Python values) under ``host_dir`` and say what to run; called on the host."""
        ...

    def container_outputs(self, host_dir: str) -> Any:
        """Read the outputs the container wrote under ``host_dir`` back as the task's return value."""
        ...
