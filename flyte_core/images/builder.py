"""Image builders: turn a ``flyte.Image`` spec into an image a container backend can run.

Container backends ask the session's plugins for builders by name (``flyte_register_image_builders``),
so a plugin can supply another builder (a remote build service, podman, kaniko, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from flyte_core.images.spec import Image

if TYPE_CHECKING:
    from flyte_core.plugins.manager import PluginSet
from flyte_core.plugins.registry import Registry


@runtime_checkable
class ImageBuilder(Protocol):
    """Makes images available to a container engine."""

    #: Registry name, e.g. "docker".
    name: str

    def ensure(self, image: Image) -> str:
        """Build (or find) ``image`` and return the reference a container runs; an unchanged spec
        must not be rebuilt."""
        ...


#: Called with the backend's options (an engine client, a base image, a log callback, ...).
ImageBuilderFactory = Callable[[Mapping[str, Any]], ImageBuilder]


class ImageBuilderRegistry(Registry[str, ImageBuilderFactory]):
    """Image builders by name, filled by ``flyte_register_image_builders``."""

    def __init__(self) -> None:
        super().__init__("image builder")


def image_builders(plugins: PluginSet | None) -> ImageBuilderRegistry:
    """The image builders the plugins of a session (``session.plugins``, ``BackendRun.plugins``) register
    (none without plugins)."""
    registry = ImageBuilderRegistry()
    if plugins is not None:
        plugins.fill_registry("flyte_register_image_builders", registry)
    return registry
