"""An example third-party flyte-core plugin (entry point ``example`` in group ``flyte``)."""

from __future__ import annotations

from flyte_example_plugin.money import Money
from flyte_example_plugin.plugin import EVENTS

__all__ = ["EVENTS", "Money"]
