"""flyte-triggers: a local scheduler for Flyte 2 triggers (``flyte triggers run FILE``).

Names load on first use, so loading the plugin (every session and worker does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {"Firing": "flyte_triggers.scheduler", "TriggerScheduler": "flyte_triggers.scheduler",
          "fire_once": "flyte_triggers.scheduler", "scheduled_triggers": "flyte_triggers.scheduler",
          "next_fire": "flyte_triggers.schedule"}
__all__ = ["Firing", "TriggerScheduler", "fire_once", "next_fire", "scheduled_triggers"]


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'flyte_triggers' has no attribute '{name}'")
    return getattr(importlib.import_module(_NAMES[name]), name)
