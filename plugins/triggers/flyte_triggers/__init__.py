"""flyte-triggers: a local scheduler for Flyte 2 triggers (``flyte triggers run FILE``)."""

from flyte_triggers.schedule import next_fire
from flyte_triggers.scheduler import Firing, TriggerScheduler, fire_once, scheduled_triggers

__all__ = ["Firing", "TriggerScheduler", "fire_once", "next_fire", "scheduled_triggers"]
