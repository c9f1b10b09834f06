"""``flyte.map``: call a task once per item, concurrently, yielding results in input order."""

from __future__ import annotations

import contextvars
import functools
import inspect
import os
import threading
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from flyte_core.errors.core import SyncTaskCallInAsyncContextError
from flyte_core.runtime import context
from flyte_core.runtime.group import group
from flyte_core.task.template import TaskTemplate

if TYPE_CHECKING:
    from flyte_core.runtime.dispatcher import Dispatcher


def _target(func: Any) -> tuple[TaskTemplate[Any, Any], tuple[Any, ...], dict[str, Any]]:
    """The task and any arguments bound with functools.partial."""
    if isinstance(func, functools.partial):
        task, args, kw = _target(func.func)
        return task, (*args, *func.args), {**kw, **func.keywords}
    if not isinstance(func, TaskTemplate):
        raise TypeError(f"flyte.map needs a task or functools.partial of a task, got {func!r}")
    return func, (), {}


def _calls(
    func: Any, iterables: tuple[Iterable[Any], ...]
) -> tuple[TaskTemplate[Any, Any], list[tuple[Any, ...]], dict[str, Any]]:
    task, pargs, pkw = _target(func)
    rows = [(*pargs, *row) for row in zip(*iterables)] if iterables else []
    return task, rows, pkw


class _Mapper:
    """``flyte.map(task, *iterables, group_name=None, concurrency=0, return_exceptions=True)``.

    Iterating yields one result per zipped input row, in input order; with
    ``return_exceptions`` a failed call yields its exception instead of raising.
    ``concurrency`` > 0 bounds how many calls run at once.
    """

    def __call__(
        self, func: Any, *iterables: Iterable[Any], group_name: str | None = None, concurrency: int = 0,
        return_exceptions: bool = True,
    ) -> Iterator[Any]:
        task, rows, kw = _calls(func, iterables)
        ctx = context.current()
        if ctx is None or ctx.dispatcher is None:  # outside a run: plain calls, one by one
            return self._plain(task, rows, kw, return_exceptions)
        import asyncio  # deferred, as in every module `import flyte` loads: it costs ~15 ms at start-up

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise SyncTaskCallInAsyncContextError(
                "flyte.map was called from async code; use 'async for x in flyte.map.aio(...)'."
            )
        if not task.is_async and ctx.dispatcher.runs_inline(task) is not False:
            return _inline(task, rows, kw, ctx.dispatcher, f"{task.name}_{group_name or 'map'}", concurrency,
                           return_exceptions)
        gen = self.aio(task, *iterables, group_name=group_name, concurrency=concurrency,
                       return_exceptions=return_exceptions, _rows=(rows, kw))
        return _drain(gen, ctx.dispatcher)

    @staticmethod
    def _plain(task: TaskTemplate[Any, Any], rows: list[tuple[Any, ...]], kw: dict[str, Any],
               return_exceptions: bool) -> Iterator[Any]:
        for row in rows:
            try:
                yield task.func(*row, **kw)
            except Exception as e:
                if not return_exceptions:
                    raise
                yield e

    async def aio(
        self, func: Any, *iterables: Iterable[Any], group_name: str | None = None, concurrency: int = 0,
        return_exceptions: bool = True, _rows: Any = None,
    ) -> AsyncIterator[Any]:
        """The async form: ``async for result in flyte.map.aio(task, items)``."""
        if _rows is None:
            task, rows, kw = _calls(func, iterables)
        else:
            task, (rows, kw) = _target(func)[0], _rows
        import asyncio

        sem = asyncio.Semaphore(concurrency) if concurrency > 0 else None

        async def one(row: tuple[Any, ...]) -> Any:
            if sem is None:
                return await task.aio(*row, **kw)
            async with sem:
                return await task.aio(*row, **kw)

        # Each call's asyncio task copies the context current at its creation: the caller's task
        # context (which the sync form carries over to the run loop) plus the map's group.
        with group(f"{task.name}_{group_name or 'map'}"):
            tasks = [asyncio.ensure_future(one(row)) for row in rows]
        try:
            for t in tasks:
                try:
                    yield await t
                except Exception as e:
                    if not return_exceptions:
                        raise
                    yield e
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


#: Threads a sync map runs its items in when the call does not bound them (``concurrency``).
_DEFAULT_WIDTH = min(32, (os.cpu_count() or 1) + 4)


def _inline(
    task: TaskTemplate[Any, Any], rows: list[tuple[Any, ...]], kw: dict[str, Any], dispatcher: Dispatcher,
    group_name: str, concurrency: int, return_exceptions: bool,
) -> Iterator[Any]:
    """A sync task's items, each run by :meth:`Dispatcher.call_sync` in one of a few threads of the
    map's own (each taking the next item when it is done with one) instead of a trip through the
    run's loop per item; results in input order. Used when the dispatcher runs sync calls in the
    calling thread (or does not know yet: a call it cannot run there still runs, on the loop)."""
    results: list[Any] = [None] * len(rows)
    done: list[bool] = [False] * len(rows)
    failed: list[bool] = [False] * len(rows)
    cond = threading.Condition()
    # The item the caller waits for (-1: none): only its end wakes the caller, not every item's.
    wanted = [-1]
    stop = threading.Event()
    # No lock per item: next() on a range iterator and a list item's assignment are single steps
    # under the GIL. Locks every thread took for every item made a long map's threads queue for
    # each other (a 100,000-item map cost 1.6x per item what a 1,000-item one did).
    taken = iter(range(len(rows)))

    def one(i: int) -> None:
        try:
            value, bad = dispatcher.call_sync(task, rows[i], kw), False
        except BaseException as e:
            value, bad = e, True
            if not isinstance(e, Exception):  # an abort or interrupt: take no further items
                stop.set()
        results[i], failed[i] = value, bad
        done[i] = True  # written before `wanted` is read: the caller sees one or the other
        if wanted[0] == i:
            with cond:
                cond.notify_all()

    def worker() -> None:
        while not stop.is_set():
            i = next(taken, None)
            if i is None:
                return
            one(i)

    if not rows:
        return
    with group(group_name):
        width = min(len(rows), concurrency if concurrency > 0 else _DEFAULT_WIDTH)
        # Each thread runs in a copy of this context: the caller's task context and the map's group.
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(worker,), daemon=True,
                                    name=f"flyte-map-{task.short_name}-{n}") for n in range(width)]
    for t in threads:
        t.start()
    try:
        for i in range(len(rows)):
            if not done[i]:
                with dispatcher.waiting(), cond:
                    wanted[0] = i
                    # In short waits: an abort raised in this thread is seen only between them.
                    while not cond.wait_for(lambda: done[i], timeout=0.1):  # noqa: B023  # this iteration's i
                        pass
                    wanted[0] = -1
            value = results[i]
            results[i] = None  # yielded: not kept
            if failed[i] and (not isinstance(value, Exception) or not return_exceptions):
                raise value
            yield value
    finally:
        stop.set()
        for t in threads:  # the items running end (an abort stops them too) before the map does
            while t.is_alive():
                try:
                    t.join(0.1)
                except BaseException:  # a second abort: the items still record how they ended
                    continue


def _drain(agen: AsyncIterator[Any], dispatcher: Dispatcher) -> Generator[Any, None, None]:
    """Iterate an async generator that lives on the run's loop from a sync task body."""
    loop = dispatcher.loop
    try:
        while True:
            fut: Future[Any] = loop.submit(agen.__anext__())  # type: ignore[arg-type]  # an async generator's step is a coroutine
            try:
                with dispatcher.waiting():
                    item = fut.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        close = loop.submit(agen.aclose())  # type: ignore[attr-defined]
        close.result()


map = _Mapper()


def is_coroutine_fn(fn: Any) -> bool:
    """True for ``async def`` functions."""
    return inspect.iscoroutinefunction(fn)
