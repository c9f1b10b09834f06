"""``flyte.extras``: ContainerTask, as in Flyte 2.

Re-exports only: ContainerTask comes from the ``flyte-containertask`` plugin, imported on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ContainerTask"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'flyte.extras' has no attribute '{name}'")
    try:
        import flyte_containertask
    except ImportError as e:
        raise ImportError(f"flyte.extras.{name} comes from the 'flyte-containertask' package; install it "
                          "(pip install flyte-containertask).") from e
    return getattr(flyte_containertask, name)
