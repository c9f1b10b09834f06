"""Triggers (``flyte.Trigger``, ``flyte.Cron``, ``flyte.FixedRate``, ...): named launch configurations of
a task, optionally fired on a schedule.

These are the models only (no scheduling, no cron parsing), so task files that declare triggers import
without any scheduler installed. A scheduler plugin (``flyte-triggers``: ``flyte triggers run FILE``)
reads them from ``task.triggers`` and starts the runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs


class _TriggerTimeSentinel:
    """Stands for the time a schedule fired; bind it to a task input in ``Trigger(inputs=...)``."""

    def __repr__(self) -> str:
        return "flyte.TriggerTime"


class _TriggeredArtifactSentinel:
    """Stands for the artifact version that fired an :class:`OnArtifact` trigger."""

    def __repr__(self) -> str:
        return "flyte.TriggeredArtifact"


#: The scheduled time of the firing, as a task input: ``inputs={"when": flyte.TriggerTime}``.
TriggerTime = _TriggerTimeSentinel()
#: The triggering artifact, as a task input of an :class:`OnArtifact` trigger.
TriggeredArtifact = _TriggeredArtifactSentinel()


@attrs.frozen
class TriggeredPartition:
    """One partition value of the triggering artifact version, as a task input."""

    key: str

    def __attrs_post_init__(self) -> None:
        if not self.key:
            raise ValueError("TriggeredPartition requires a non-empty partition key")


@attrs.frozen(init=False)
class OnArtifact:
    """Fire when a new version of the named artifact is created (needs an artifact service: accepted
    here, never fired by the local scheduler)."""

    name: str
    version: str | None = None
    partitions: Mapping[str, str] | None = None

    def __init__(self, name: str, version: str | None = None, partitions: Mapping[str, str] | None = None,
                 **partition_kwargs: str) -> None:
        if not name:
            raise ValueError("OnArtifact requires a non-empty artifact name")
        merged = {**(partitions or {}), **partition_kwargs}
        for k, v in merged.items():
            if not isinstance(v, str):
                raise TypeError(f"OnArtifact partition {k!r} must be a string value, got {type(v).__name__}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "partitions", merged or None)

    def __str__(self) -> str:
        return f"Artifact Trigger: on new version of {self.name}{'@' + self.version if self.version else ''}"


@attrs.frozen
class Cron:
    """A five-field cron schedule (``minute hour day-of-month month day-of-week``) in ``timezone``."""

    expression: str
    timezone: str = "UTC"

    @property
    def timezone_expression(self) -> str:
        """The expression with its timezone, as cron daemons spell it (``CRON_TZ=UTC 0 * * * *``)."""
        return f"CRON_TZ={self.timezone} {self.expression}"

    def __str__(self) -> str:
        return f"Cron Trigger: {self.timezone_expression}"


@attrs.frozen
class FixedRate:
    """Fire every ``interval_minutes``, counted from ``start_time`` (or from when the scheduler starts).

    flyte-core also accepts a fractional interval (``FixedRate(0.5)``: every 30 seconds)."""

    interval_minutes: float
    start_time: datetime | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.interval_minutes, int | float) or self.interval_minutes <= 0:
            raise ValueError(f"FixedRate interval_minutes must be a positive number, got {self.interval_minutes!r}")

    def __str__(self) -> str:
        return f"FixedRate Trigger: every {self.interval_minutes} minutes"


_Automation = Cron | FixedRate | OnArtifact


@attrs.frozen
class Trigger:
    """A named launch configuration of a task: default inputs, env vars, labels, ... and optionally an
    ``automation`` (:class:`Cron`, :class:`FixedRate`, :class:`OnArtifact`) that fires it.

    Attach with ``@env.task(triggers=...)``. Bind the scheduled time to an input with
    ``inputs={"name": flyte.TriggerTime}``.
    """

    name: str
    automation: Cron | FixedRate | OnArtifact | None = None
    description: str = ""
    auto_activate: bool = True
    inputs: dict[str, Any] | None = None
    env_vars: dict[str, str] | None = None
    interruptible: bool | None = None
    overwrite_cache: bool = False
    queue: str | None = None
    max_action_concurrency: int | None = None
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None
    notifications: Any = None
    custom_context: Mapping[str, str] | None = None

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise ValueError("Trigger name cannot be empty")
        if self.automation is not None and not isinstance(self.automation, _Automation):
            raise TypeError(f"Trigger '{self.name}': automation must be flyte.Cron, flyte.FixedRate or "
                            f"flyte.OnArtifact, got {self.automation!r}")
        values = list((self.inputs or {}).items())
        artifact_args = [k for k, v in values if v is TriggeredArtifact]
        if len(artifact_args) > 1:
            raise ValueError(f"Trigger '{self.name}' binds TriggeredArtifact to multiple inputs "
                             f"{sorted(artifact_args)}; at most one input can receive the triggering artifact.")
        on_artifact = isinstance(self.automation, OnArtifact)
        for k, v in values:
            if (v is TriggeredArtifact or isinstance(v, TriggeredPartition)) and not on_artifact:
                raise ValueError(f"Trigger '{self.name}' binds {v!r} to input '{k}' but its automation is not "
                                 "OnArtifact.")
            if v is TriggerTime and not isinstance(self.automation, Cron | FixedRate):
                raise ValueError(f"Trigger '{self.name}' binds TriggerTime to input '{k}', which only schedule "
                                 "(Cron/FixedRate) triggers provide.")
        mac = self.max_action_concurrency
        if mac is not None and (mac < 0 or mac == 1):
            raise ValueError(f"Trigger '{self.name}': max_action_concurrency must be 0 or at least 2, got {mac} "
                             "(1 would deadlock: a parent holds a slot while its children wait).")
        if len(self.description) > 255:
            object.__setattr__(self, "description", self.description[:252] + "...")

    @property
    def trigger_time_inputs(self) -> list[str]:
        """The inputs that receive the scheduled time."""
        return [k for k, v in (self.inputs or {}).items() if v is TriggerTime]

    @classmethod
    def _every(cls, expression: str, trigger_time_input_key: str | None, inputs: dict[str, Any] | None,
               **kwargs: Any) -> Trigger:
        final: dict[str, Any] = {trigger_time_input_key: TriggerTime} if trigger_time_input_key else {}
        final.update(inputs or {})
        return cls(automation=Cron(expression), inputs=final, **kwargs)

    @classmethod
    def daily(cls, trigger_time_input_key: str | None = None, *, name: str = "daily",
              description: str = "A trigger that runs daily at midnight", auto_activate: bool = True,
              inputs: dict[str, Any] | None = None, env_vars: dict[str, str] | None = None,
              interruptible: bool | None = None, overwrite_cache: bool = False, queue: str | None = None,
              max_action_concurrency: int | None = None, labels: Mapping[str, str] | None = None,
              annotations: Mapping[str, str] | None = None, custom_context: Mapping[str, str] | None = None,
              ) -> Trigger:
        """Every day at midnight UTC (``0 0 * * *``); the scheduled time goes to ``trigger_time_input_key``."""
        return cls._every("0 0 * * *", trigger_time_input_key, inputs, name=name, description=description,
                          auto_activate=auto_activate, env_vars=env_vars, interruptible=interruptible,
                          overwrite_cache=overwrite_cache, queue=queue, max_action_concurrency=max_action_concurrency,
                          labels=labels, annotations=annotations, custom_context=custom_context)

    @classmethod
    def hourly(cls, trigger_time_input_key: str | None = None, *, name: str = "hourly",
               description: str = "A trigger that runs every hour", auto_activate: bool = True,
               inputs: dict[str, Any] | None = None, env_vars: dict[str, str] | None = None,
               interruptible: bool | None = None, overwrite_cache: bool = False, queue: str | None = None,
               max_action_concurrency: int | None = None, labels: Mapping[str, str] | None = None,
               annotations: Mapping[str, str] | None = None, custom_context: Mapping[str, str] | None = None,
               ) -> Trigger:
        """Every hour on the hour (``0 * * * *``)."""
        return cls._every("0 * * * *", trigger_time_input_key, inputs, name=name, description=description,
                          auto_activate=auto_activate, env_vars=env_vars, interruptible=interruptible,
                          overwrite_cache=overwrite_cache, queue=queue, max_action_concurrency=max_action_concurrency,
                          labels=labels, annotations=annotations, custom_context=custom_context)

    @classmethod
    def minutely(cls, trigger_time_input_key: str | None = None, *, name: str = "minutely",
                 description: str = "A trigger that runs every minute", auto_activate: bool = True,
                 inputs: dict[str, Any] | None = None, env_vars: dict[str, str] | None = None,
                 interruptible: bool | None = None, overwrite_cache: bool = False, queue: str | None = None,
                 max_action_concurrency: int | None = None, labels: Mapping[str, str] | None = None,
                 annotations: Mapping[str, str] | None = None, custom_context: Mapping[str, str] | None = None,
                 ) -> Trigger:
        """Every minute (``* * * * *``)."""
        return cls._every("* * * * *", trigger_time_input_key, inputs, name=name, description=description,
                          auto_activate=auto_activate, env_vars=env_vars, interruptible=interruptible,
                          overwrite_cache=overwrite_cache, queue=queue, max_action_concurrency=max_action_concurrency,
                          labels=labels, annotations=annotations, custom_context=custom_context)

    @classmethod
    def weekly(cls, trigger_time_input_key: str | None = None, *, name: str = "weekly",
               description: str = "A trigger that runs weekly on Sundays at midnight", auto_activate: bool = True,
               inputs: dict[str, Any] | None = None, env_vars: dict[str, str] | None = None,
               interruptible: bool | None = None, overwrite_cache: bool = False, queue: str | None = None,
               max_action_concurrency: int | None = None, labels: Mapping[str, str] | None = None,
               annotations: Mapping[str, str] | None = None, custom_context: Mapping[str, str] | None = None,
               ) -> Trigger:
        """Sundays at midnight (``0 0 * * 0``)."""
        return cls._every("0 0 * * 0", trigger_time_input_key, inputs, name=name, description=description,
                          auto_activate=auto_activate, env_vars=env_vars, interruptible=interruptible,
                          overwrite_cache=overwrite_cache, queue=queue, max_action_concurrency=max_action_concurrency,
                          labels=labels, annotations=annotations, custom_context=custom_context)

    @classmethod
    def monthly(cls, trigger_time_input_key: str | None = None, *, name: str = "monthly",
                description: str = "A trigger that runs monthly on the 1st at midnight", auto_activate: bool = True,
                inputs: dict[str, Any] | None = None, env_vars: dict[str, str] | None = None,
                interruptible: bool | None = None, overwrite_cache: bool = False, queue: str | None = None,
                max_action_concurrency: int | None = None, labels: Mapping[str, str] | None = None,
                annotations: Mapping[str, str] | None = None, custom_context: Mapping[str, str] | None = None,
                ) -> Trigger:
        """The 1st of each month at midnight (``0 0 1 * *``)."""
        return cls._every("0 0 1 * *", trigger_time_input_key, inputs, name=name, description=description,
                          auto_activate=auto_activate, env_vars=env_vars, interruptible=interruptible,
                          overwrite_cache=overwrite_cache, queue=queue, max_action_concurrency=max_action_concurrency,
                          labels=labels, annotations=annotations, custom_context=custom_context)


def task_triggers(task: Any) -> tuple[Trigger, ...]:
    """The triggers attached to ``task`` with ``@env.task(triggers=...)`` (one Trigger or several)."""
    value = getattr(task, "extra", {}).get("triggers") or ()
    found = (value,) if isinstance(value, Trigger) else tuple(value)
    for t in found:
        if not isinstance(t, Trigger):
            raise TypeError(f"Task '{getattr(task, 'name', task)}': triggers must be flyte.Trigger objects, "
                            f"got {t!r}")
    return found


def check_task_triggers(task: Any) -> None:
    """Refuse, when ``@env.task`` runs, triggers that cannot fire ``task``: duplicate names, or inputs
    the task does not have."""
    names = {i.name for i in task.interface.inputs}
    seen: set[str] = set()
    for trig in task_triggers(task):
        if trig.name in seen:
            raise ValueError(f"Task '{task.name}' has two triggers named '{trig.name}'; trigger names must differ.")
        seen.add(trig.name)
        for key in trig.inputs or {}:
            if key not in names:
                raise ValueError(f"Trigger '{trig.name}' of task '{task.name}' sets input '{key}', which the task "
                                 f"does not have (inputs: {', '.join(sorted(names)) or 'none'}).")
