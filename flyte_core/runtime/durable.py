"""``flyte.durable``: ``time``, ``now`` and ``sleep`` whose values replay the same when a task
runs again (a retry, or ``--recover`` of its run), so a task that reads the clock decides the same
way each time and a long sleep is not started over.

Each call inside a task is numbered in call order within its attempt and recorded as a child
entry of the action (task ``durable:<name>``, like a ``@flyte.trace`` call, with the value as its
output). A later attempt of the same action, or the same action of a run that recovers this one,
meets the same calls in the same order and gets the recorded values back instead of new ones.
``sleep(seconds)`` records when it started, so an attempt that comes back after a crash only
sleeps for what is left. Outside a task they are the plain clock.
"""

from __future__ import annotations

import time as _time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from flyte_core.runtime import context

T = TypeVar("T")


def recorded(name: str) -> float:
    """The time (seconds since the epoch) of this attempt's next ``name`` call: the value an
    earlier attempt (or the recovered run) recorded for it, else now, recorded."""
    now = _time.time()
    ctx = context.current()
    if ctx is None or ctx.dispatcher is None:  # outside a task
        return now
    return ctx.dispatcher.durable_value(ctx.action.name, name, ctx.durable_sequence.next(), now)


class _Durable(Generic[T]):
    """A sync function with an ``.aio`` twin, as Flyte 2's durable functions are."""

    def __init__(self, fn: Callable[..., T], afn: Callable[..., Awaitable[T]], doc: str) -> None:
        self._fn = fn
        self._afn = afn
        self.__doc__ = doc

    def __call__(self, *args: Any) -> T:
        return self._fn(*args)

    async def aio(self, *args: Any) -> T:
        """The same, for async code."""
        return await self._afn(*args)


def _time_sync() -> float:
    return recorded("time")


async def _time_async() -> float:
    import asyncio  # loaded already (this runs on its loop); a sync worker never imports it

    return await asyncio.to_thread(recorded, "time")  # the record may be a round trip to the controller


def _now_sync() -> datetime:
    return datetime.fromtimestamp(recorded("now"))


async def _now_async() -> datetime:
    import asyncio  # loaded already (this runs on its loop); a sync worker never imports it

    return datetime.fromtimestamp(await asyncio.to_thread(recorded, "now"))


def _sleep_sync(seconds: float) -> None:
    left = recorded("sleep") + seconds - _time.time()
    if left > 0:
        _time.sleep(left)


async def _sleep_async(seconds: float) -> None:
    import asyncio  # loaded already (this runs on its loop); a sync worker never imports it

    left = await asyncio.to_thread(recorded, "sleep") + seconds - _time.time()
    if left > 0:
        await asyncio.sleep(left)


#: ``time.time()`` that replays: the same value each time the task meets this call again.
time = _Durable(_time_sync, _time_async, "The current time (seconds since the epoch), replayed on re-runs.")
#: ``datetime.now()`` (local, naive, as Flyte 2) that replays like :data:`time`.
now = _Durable(_now_sync, _now_async, "The current local datetime, replayed on re-runs.")
#: ``time.sleep``/``asyncio.sleep`` counted from the first time the task met this call.
sleep = _Durable(_sleep_sync, _sleep_async,
                 "Sleep until `seconds` after the first time this call was met (re-runs sleep what is left).")
