"""``flyte.extras``: ContainerTask, shell tasks, Sleep tasks and the batching utilities, as in Flyte 2.

Re-exports only: they come from the ``flyte-containertask`` plugin, imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["BatchStats", "ContainerTask", "CostEstimator", "DynamicBatcher", "Prompt", "Sleep", "SleepTask",
           "TokenBatcher", "TokenEstimator", "shell"]
_SUBMODULES = {"shell"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'flyte.extras' has no attribute '{name}'")
    if name in _SUBMODULES:
        return importlib.import_module(f"flyte.extras.{name}")
    try:
        import flyte_containertask
    except ImportError as e:
        raise ImportError(f"flyte.extras.{name} comes from the 'flyte-containertask' package; install it "
                          "(pip install flyte-containertask).") from e
    return getattr(flyte_containertask, name)
