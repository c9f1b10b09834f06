"""flyte-containertask: ``flyte.extras``: ContainerTask (an image's own command as a task), shell tasks,
Sleep tasks, and the DynamicBatcher/TokenBatcher batching utilities.

Names load on first use, so loading the plugin (every session and worker does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "ContainerTask": "flyte_containertask.task", "ContainerTaskError": "flyte_containertask.engine",
    "Sleep": "flyte_containertask.sleep", "SleepTask": "flyte_containertask.sleep",
    **{n: "flyte_containertask.batching" for n in ("BatchStats", "CostEstimator", "DynamicBatcher", "Prompt",
                                                    "TokenBatcher", "TokenEstimator")},
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'flyte_containertask' has no attribute '{name}'")
    return getattr(importlib.import_module(_NAMES[name]), name)
