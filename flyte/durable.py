"""Flyte 2's ``flyte.durable``: ``time``, ``now`` and ``sleep`` that replay on re-runs
(re-exported from ``flyte_core.runtime.durable``)."""

from flyte_core.runtime.durable import now, sleep, time

__all__ = ["now", "sleep", "time"]
