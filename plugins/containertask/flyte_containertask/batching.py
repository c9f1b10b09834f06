"""``flyte.extras.DynamicBatcher`` and ``TokenBatcher``: many concurrent producers, one batched async function.

Producers ``await batcher.submit(record)`` and get a future; an assembler groups queued records into
batches bounded by a cost budget, a size cap and a wait time, and a consumer hands each batch to
``process_fn`` and resolves the futures with its results, in order. Pure asyncio: it works the same in
any task on any backend (and outside tasks), since it lives inside one process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Generic, Protocol, TypeVar, runtime_checkable

__all__ = ["BatchStats", "CostEstimator", "DynamicBatcher", "Prompt", "TokenBatcher", "TokenEstimator"]

log = logging.getLogger(__name__)

RecordT = TypeVar("RecordT")
ResultT = TypeVar("ResultT")

#: ``async def f(batch: list[RecordT]) -> list[ResultT]``, results in the batch's order.
ProcessFn = Callable[[list[RecordT]], Awaitable[list[ResultT]]]
#: ``(record) -> int``: what one record costs (tokens, bytes, ...).
CostEstimatorFn = Callable[[RecordT], int]


@runtime_checkable
class CostEstimator(Protocol):
    """A record that says what it costs; used when ``submit`` is given no ``estimated_cost``."""

    def estimate_cost(self) -> int:
        """The record's cost in the batcher's unit."""
        ...


@runtime_checkable
class TokenEstimator(Protocol):
    """A record that says how many tokens it holds; used by :class:`TokenBatcher`."""

    def estimate_tokens(self) -> int:
        """The record's estimated token count."""
        ...


@dataclasses.dataclass
class Prompt:
    """A text prompt whose token estimate is about four characters a token."""

    text: str

    def estimate_tokens(self) -> int:
        """``len(text) // 4 + 1``."""
        return len(self.text) // 4 + 1


@dataclasses.dataclass
class BatchStats:
    """Counters of a batcher (``batcher.stats``); times are wall-clock seconds of the consumer."""

    total_submitted: int = 0
    total_completed: int = 0
    total_batches: int = 0
    total_batch_cost: int = 0
    avg_batch_size: float = 0.0
    avg_batch_cost: float = 0.0
    busy_time_s: float = 0.0
    idle_time_s: float = 0.0

    @property
    def utilization(self) -> float:
        """Share of the consumer's time spent in ``process_fn`` (0.0 before anything ran)."""
        total = self.busy_time_s + self.idle_time_s
        return self.busy_time_s / total if total > 0 else 0.0

    def _record_batch(self, size: int, cost: int) -> None:
        self.total_batches += 1
        self.total_completed += size
        self.total_batch_cost += cost
        self.avg_batch_size = self.total_completed / self.total_batches
        self.avg_batch_cost = self.total_batch_cost / self.total_batches


@dataclasses.dataclass
class _Item(Generic[RecordT, ResultT]):
    record: RecordT
    cost: int
    future: asyncio.Future[ResultT]


class DynamicBatcher(Generic[RecordT, ResultT]):
    """Batches records submitted by many coroutines and runs each batch through ``process_fn``.

    A batch is closed when its summed cost reaches ``target_batch_cost``, when it holds
    ``max_batch_size`` records, or ``batch_timeout_s`` after its first record arrived; one holding fewer
    than ``min_batch_size`` records waits for more (unless the batcher is stopping). Up to
    ``prefetch_batches`` closed batches wait while one is processed; ``submit`` waits when
    ``max_queue_size`` records are queued (backpressure). A record's cost is ``estimated_cost`` if given,
    else ``cost_estimator(record)``, else ``record.estimate_cost()``, else ``default_cost``.

    Use ``async with DynamicBatcher(fn) as b:`` (or ``start()``/``stop()``); ``stop`` processes everything
    submitted before it returns. When ``process_fn`` raises, or returns the wrong number of results, every
    future of that batch gets the exception and the batcher carries on.
    """

    def __init__(
        self,
        process_fn: ProcessFn[RecordT, ResultT],
        *,
        cost_estimator: CostEstimatorFn[RecordT] | None = None,
        target_batch_cost: int = 32_000,
        max_batch_size: int = 256,
        min_batch_size: int = 1,
        batch_timeout_s: float = 0.05,
        max_queue_size: int = 5_000,
        prefetch_batches: int = 2,
        default_cost: int = 1,
    ) -> None:
        if not callable(process_fn):
            raise TypeError(f"{type(self).__name__}: process_fn must be an async function, got {process_fn!r}")
        for name, value in (("target_batch_cost", target_batch_cost), ("max_batch_size", max_batch_size),
                            ("min_batch_size", min_batch_size), ("prefetch_batches", prefetch_batches)):
            if value < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be at least 1, got {value}")
        if min_batch_size > max_batch_size:
            raise ValueError(f"{type(self).__name__}: min_batch_size ({min_batch_size}) is above "
                             f"max_batch_size ({max_batch_size})")
        if batch_timeout_s < 0:
            raise ValueError(f"{type(self).__name__}: batch_timeout_s must not be negative")
        self._process_fn = process_fn
        self._cost_estimator = cost_estimator
        self._target_batch_cost = target_batch_cost
        self._max_batch_size = max_batch_size
        self._min_batch_size = min_batch_size
        self._batch_timeout_s = batch_timeout_s
        self._max_queue_size = max_queue_size
        self._prefetch_batches = prefetch_batches
        self._default_cost = default_cost
        self._stats = BatchStats()
        self._tasks: list[asyncio.Task[None]] = []
        # Made in start(): asyncio objects belong to the loop that runs the batcher.
        self._queue: asyncio.Queue[_Item[RecordT, ResultT] | None] | None = None
        self._batches: asyncio.Queue[list[_Item[RecordT, ResultT]] | None] | None = None

    @property
    def stats(self) -> BatchStats:
        """The batcher's counters, updated as batches complete."""
        return self._stats

    @property
    def is_running(self) -> bool:
        """True between ``start()`` and the end of ``stop()``."""
        return bool(self._tasks)

    async def start(self) -> None:
        """Start assembling and processing batches. Raises RuntimeError when already running."""
        if self._tasks:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._queue = asyncio.Queue(maxsize=self._max_queue_size)
        self._batches = asyncio.Queue(maxsize=self._prefetch_batches)
        self._tasks = [asyncio.create_task(self._assemble(), name=f"{type(self).__name__}-assemble"),
                       asyncio.create_task(self._consume(), name=f"{type(self).__name__}-process")]

    async def stop(self) -> None:
        """Process every record submitted so far, then stop (a no-op when not running)."""
        if not self._tasks or self._queue is None:
            return
        await self._queue.put(None)
        try:
            await asyncio.gather(*self._tasks)
        finally:
            self._tasks = []

    async def submit(self, record: RecordT, *, estimated_cost: int | None = None) -> asyncio.Future[ResultT]:
        """Queue ``record``; the returned future resolves to its entry of ``process_fn``'s results."""
        if not self._tasks or self._queue is None:
            raise RuntimeError(f"{type(self).__name__} is not running: use 'async with' or await start() first")
        item = _Item(record, self._estimate_cost(record, estimated_cost), asyncio.get_running_loop().create_future())
        await self._queue.put(item)
        self._stats.total_submitted += 1
        return item.future

    async def submit_batch(self, records: Sequence[RecordT], *,
                           estimated_cost: Sequence[int] | None = None) -> list[asyncio.Future[ResultT]]:
        """``submit`` each record (with its cost from ``estimated_cost`` when given); their futures in order."""
        if estimated_cost is not None and len(estimated_cost) != len(records):
            raise ValueError(f"{type(self).__name__}.submit_batch: {len(records)} records but "
                             f"{len(estimated_cost)} estimated costs")
        return [await self.submit(r, estimated_cost=None if estimated_cost is None else estimated_cost[i])
                for i, r in enumerate(records)]

    async def __aenter__(self) -> DynamicBatcher[RecordT, ResultT]:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()

    def _estimate_cost(self, record: RecordT, override: int | None) -> int:
        if override is not None:
            return override
        if self._cost_estimator is not None:
            return self._cost_estimator(record)
        if isinstance(record, CostEstimator):
            return record.estimate_cost()
        return self._default_cost

    async def _assemble(self) -> None:
        """Group queued records into batches; forward a None (stop) after the last batch."""
        assert self._queue is not None and self._batches is not None
        pending: list[_Item[RecordT, ResultT]] = []  # records held back for min_batch_size
        stopping = False
        while not stopping:
            batch, pending = pending, []
            if not batch:
                first = await self._queue.get()
                if first is None:
                    break
                batch.append(first)
            deadline = time.monotonic() + self._batch_timeout_s
            while not self._full(batch):
                try:
                    item = await asyncio.wait_for(self._queue.get(), max(deadline - time.monotonic(), 0))
                except TimeoutError:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            if len(batch) >= self._min_batch_size or stopping:
                await self._batches.put(batch)
            else:
                pending = batch
        await self._batches.put(None)

    def _full(self, batch: list[_Item[RecordT, ResultT]]) -> bool:
        return len(batch) >= self._max_batch_size or sum(i.cost for i in batch) >= self._target_batch_cost

    async def _consume(self) -> None:
        """Run each batch through process_fn and resolve its futures."""
        assert self._batches is not None
        while True:
            waited = time.monotonic()
            batch = await self._batches.get()
            began = time.monotonic()
            self._stats.idle_time_s += began - waited
            if batch is None:
                return
            try:
                results = await self._process_fn([i.record for i in batch])
                if len(results) != len(batch):
                    raise ValueError(f"{type(self).__name__}: process_fn returned {len(results)} results for a "
                                     f"batch of {len(batch)} records (it must return one per record, in order)")
                for item, result in zip(batch, results, strict=True):
                    if not item.future.done():
                        item.future.set_result(result)
            except Exception as e:  # the batch's callers get the failure; later batches still run
                log.warning("%s: a batch of %d failed: %s", type(self).__name__, len(batch), e)
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(e)
            self._stats.busy_time_s += time.monotonic() - began
            self._stats._record_batch(len(batch), sum(i.cost for i in batch))


class TokenBatcher(DynamicBatcher[RecordT, ResultT]):
    """A :class:`DynamicBatcher` for LLM inference, with token-named parameters: ``inference_fn`` (or
    ``process_fn``), ``token_estimator``, ``target_batch_tokens``, ``default_token_estimate``; a record's
    cost is also taken from its ``estimate_tokens()`` (:class:`TokenEstimator`, e.g. :class:`Prompt`)."""

    def __init__(
        self,
        inference_fn: ProcessFn[RecordT, ResultT] | None = None,
        *,
        process_fn: ProcessFn[RecordT, ResultT] | None = None,
        token_estimator: CostEstimatorFn[RecordT] | None = None,
        cost_estimator: CostEstimatorFn[RecordT] | None = None,
        target_batch_tokens: int | None = None,
        target_batch_cost: int = 32_000,
        default_token_estimate: int | None = None,
        default_cost: int = 1,
        max_batch_size: int = 256,
        min_batch_size: int = 1,
        batch_timeout_s: float = 0.05,
        max_queue_size: int = 5_000,
        prefetch_batches: int = 2,
    ) -> None:
        fn = inference_fn or process_fn
        if fn is None:
            raise TypeError("TokenBatcher needs inference_fn (or process_fn): the async function run on each batch")
        super().__init__(
            fn, cost_estimator=token_estimator or cost_estimator,
            target_batch_cost=target_batch_tokens if target_batch_tokens is not None else target_batch_cost,
            default_cost=default_token_estimate if default_token_estimate is not None else default_cost,
            max_batch_size=max_batch_size, min_batch_size=min_batch_size, batch_timeout_s=batch_timeout_s,
            max_queue_size=max_queue_size, prefetch_batches=prefetch_batches,
        )

    def _estimate_cost(self, record: RecordT, override: int | None) -> int:
        if override is None and self._cost_estimator is None and isinstance(record, TokenEstimator):
            return record.estimate_tokens()
        return super()._estimate_cost(record, override)

    async def submit(self, record: RecordT, *, estimated_tokens: int | None = None,
                     estimated_cost: int | None = None) -> asyncio.Future[ResultT]:
        """Queue ``record`` with an optional token count (``estimated_tokens`` or ``estimated_cost``)."""
        return await super().submit(record, estimated_cost=estimated_tokens if estimated_tokens is not None
                                    else estimated_cost)

