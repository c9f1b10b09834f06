"""Flyte 2's ``flyte.extend``: the names its plugin authors import, where they fit flyte-core.

Re-exports only. flyte-core's own plugin API is :mod:`flyte_core.extend` (docs/writing-plugins.md);
docs/compat.md says, name by name, what each of Flyte 2's names means here.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from flyte._image import Architecture
from flyte_core.api.runs import is_initialized
from flyte_core.extend import ImageBuilder, TaskTemplate

#: The name of the container that runs the task in a task's pod (the kubernetes backend's pods, and
#: the container a ``pod_template`` must name to override it).
PRIMARY_CONTAINER_DEFAULT_NAME = "primary"

#: Every task template, async or sync, is a :class:`TaskTemplate` here.
AsyncFunctionTaskTemplate = TaskTemplate
#: As in Flyte 2, the template a task runs as.
RuntimeTaskTemplate = TaskTemplate


def lazy_module(fullname: str) -> ModuleType:
    """The module ``fullname``, imported on first attribute access (a heavy optional dependency
    costs nothing until used). Raises ModuleNotFoundError when it is not installed."""
    if fullname in sys.modules:
        return sys.modules[fullname]
    spec = importlib.util.find_spec(fullname)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named '{fullname}'", name=fullname)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[fullname] = module
    loader.exec_module(module)
    return module


__all__ = [
    "PRIMARY_CONTAINER_DEFAULT_NAME", "Architecture", "AsyncFunctionTaskTemplate", "ImageBuilder",
    "RuntimeTaskTemplate", "TaskTemplate", "is_initialized", "lazy_module",
]
