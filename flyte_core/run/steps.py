"""The steps of the controller's general path: the attempt generator yields what to do next (run an
attempt, sleep before a retry, wait for an identical call in flight) and a driver carries the steps
out, in the calling thread (:func:`drive_sync`) or on the run's loop (:func:`drive_async`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Generator, Mapping
from concurrent.futures import Future
from typing import Any

import attrs

from flyte_core.run.backend import ActionOutcome, ActionSpec, Backend
from flyte_core.runtime.loopthread import LoopThread


@attrs.frozen
class Sleep:
    """Sleep before the next attempt (a retry's backoff)."""

    seconds: float


@attrs.frozen
class Wait:
    """Wait for an identical call in flight to finish (its outputs, or None if it failed)."""

    future: Future[Mapping[str, Any] | None]


#: The attempt generator: yields what to do, receives each attempt's outcome, returns output literals.
Steps = Generator[ActionSpec | Sleep | Wait, Any, Mapping[str, Any]]


def drive_sync(gen: Steps, backend: Backend, loop: LoopThread,
               execute_inline: Callable[[ActionSpec], ActionOutcome | None],
               execute: Callable[[ActionSpec], Coroutine[Any, Any, ActionOutcome]]) -> Mapping[str, Any]:
    """Carry out ``gen``'s steps in this thread (a sync task body's call); attempts run inline when
    the backend can, else on the run's ``loop`` while this thread lends its slot (``blocked``)."""
    reply: Any = None
    try:
        while True:
            step = gen.send(reply)
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
                reply = None
            elif isinstance(step, Wait):
                with backend.blocked():
                    reply = step.future.result()
            else:
                reply = execute_inline(step)
                if reply is None:  # the backend cannot run it in this thread
                    with backend.blocked():
                        reply = loop.submit(execute(step)).result()
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except BaseException:
        gen.close()
        raise


async def drive_async(gen: Steps,
                      execute: Callable[[ActionSpec], Coroutine[Any, Any, ActionOutcome]]) -> Mapping[str, Any]:
    """Carry out ``gen``'s steps on the run's loop."""
    reply: Any = None
    try:
        while True:
            step = gen.send(reply)
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                reply = None
            elif isinstance(step, Wait):
                reply = await asyncio.wrap_future(step.future)
            else:
                reply = await execute(step)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except (asyncio.CancelledError, KeyboardInterrupt):
        gen.close()
        raise
