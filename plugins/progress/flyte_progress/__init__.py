"""flyte-progress: a live tree of a run's actions for ``flyte run``, as a flyte-core plugin.

Importing the package is cheap (flyte-core imports ``flyte_progress.plugin`` in every session);
``rich`` is only imported when an observer is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte_progress.observer import LiveTreeObserver

__all__ = ["LiveTreeObserver"]


def __getattr__(name: str) -> Any:
    if name == "LiveTreeObserver":
        from flyte_progress.observer import LiveTreeObserver

        return LiveTreeObserver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
