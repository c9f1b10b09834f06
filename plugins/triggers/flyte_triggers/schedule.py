"""When a trigger's automation fires next: cron expressions through croniter, fixed rates by arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from flyte_core.extend import Cron, FixedRate, FlyteUsageError, Trigger


def check(trigger: Trigger) -> None:
    """Refuse an automation the scheduler cannot follow, naming the trigger (a bad cron expression,
    an unknown timezone)."""
    auto = trigger.automation
    if isinstance(auto, Cron):
        _zone(trigger, auto.timezone)
        if not croniter.is_valid(auto.expression) or len(auto.expression.split()) != 5:
            raise FlyteUsageError(f"Trigger '{trigger.name}': '{auto.expression}' is not a five-field cron "
                                  "expression (minute hour day-of-month month day-of-week), e.g. '*/5 * * * *'.")


def next_fire(trigger: Trigger, after: datetime, activated: datetime) -> datetime:
    """The first time strictly after ``after`` that ``trigger`` fires (an aware datetime).

    A :class:`FixedRate` without ``start_time`` counts from ``activated`` (its first firing is one
    interval after the scheduler starts, as in Flyte 2); a naive ``start_time`` is taken as UTC.
    """
    auto = trigger.automation
    if isinstance(auto, Cron):
        zone = _zone(trigger, auto.timezone)
        base = after.astimezone(zone)
        nxt: datetime = croniter(auto.expression, base).get_next(datetime)
        return nxt
    if isinstance(auto, FixedRate):
        step = timedelta(minutes=auto.interval_minutes)
        anchor = auto.start_time or activated
        if anchor.tzinfo is None:
            anchor = anchor.replace(tzinfo=UTC)
        if after < anchor:
            return anchor if auto.start_time is not None else anchor + step
        periods = (after - anchor) // step + 1
        return anchor + periods * step
    raise FlyteUsageError(f"Trigger '{trigger.name}' has no schedule (automation={auto!r}); only flyte.Cron and "
                          "flyte.FixedRate triggers fire on the local scheduler.")


def _zone(trigger: Trigger, name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FlyteUsageError(f"Trigger '{trigger.name}': unknown timezone '{name}'; use an IANA name such as "
                              "'UTC' or 'Europe/London' (install the tzdata package if none are found).") from None
