"""flyte-containertask: ``flyte.extras.ContainerTask``, a task that runs an image's own command.

Names load on first use, so loading the plugin (every session and worker does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {"ContainerTask": "flyte_containertask.task", "ContainerTaskError": "flyte_containertask.engine"}
__all__ = ["ContainerTask", "ContainerTaskError"]


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'flyte_containertask' has no attribute '{name}'")
    return getattr(importlib.import_module(_NAMES[name]), name)
