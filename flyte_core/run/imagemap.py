"""Image overrides by name (``flyte run --image [NAME=]URI``, as in Flyte 2).

``NAME=URI`` replaces every ``Image.from_ref_name(NAME)`` image; a bare ``URI`` is the default
image: it replaces ``Image.from_ref_name()`` images and the image of every environment that names
none (``image="auto"`` or unset). The environments are changed in place, in the process that
drives the run, so the backends that run images (docker, kubernetes) start the given image.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from flyte_core.errors.core import FlyteUsageError
from flyte_core.images.spec import Image
from flyte_core.task.environment import TaskEnvironment

#: The name a bare ``--image URI`` is registered under (Flyte 2's default image name).
DEFAULT = "default"


def parse_image_options(values: Iterable[str]) -> dict[str, str]:
    """``["gpu=ghcr.io/x/gpu:1", "ghcr.io/x/base:2"]`` as ``{"gpu": ..., "default": ...}``."""
    out: dict[str, str] = {}
    for v in values:
        name, sep, uri = v.partition("=")
        if not sep:
            name, uri = DEFAULT, v
        if not name or not uri or "/" in name or ":" in name:
            raise FlyteUsageError(f"--image '{v}' must be URI or NAME=URI (like gpu=ghcr.io/org/gpu:v2).")
        if name in out:
            raise FlyteUsageError(f"--image names '{name}' twice.")
        out[name] = uri
    return out


def environments_in(module: ModuleType) -> list[TaskEnvironment]:
    """The module's environments and those they depend on, each once."""
    seen: dict[int, TaskEnvironment] = {}
    todo: list[Any] = [v for v in vars(module).values() if isinstance(v, TaskEnvironment)]
    while todo:
        env = todo.pop(0)
        if id(env) not in seen:
            seen[id(env)] = env
            todo.extend(env.depends_on)
    return list(seen.values())


def _ref_name(image: Any) -> str | None:
    base = getattr(image, "base_image", None) if isinstance(image, Image) else None
    return base[4:] if isinstance(base, str) and base.startswith("ref:") else None


def apply_image_overrides(envs: Iterable[TaskEnvironment], images: Mapping[str, str]) -> dict[str, str]:
    """Point each environment at its override (see the module docstring); returns env name -> URI changed."""
    changed: dict[str, str] = {}
    for env in envs:
        ref = _ref_name(env.image)
        uri = images.get(ref) if ref is not None else (images.get(DEFAULT) if env.image in (None, "auto") else None)
        if uri is not None:
            env.image = uri
            changed[env.name] = uri
    return changed


__all__ = ["DEFAULT", "apply_image_overrides", "environments_in", "parse_image_options"]
