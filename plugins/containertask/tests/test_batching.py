"""flyte.extras.DynamicBatcher / TokenBatcher: batches bounded by cost, size and min size; results in order;
a failing batch fails only its own futures; stop() drains; and the batcher inside a task of a real run."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from flyte_containertask.batching import BatchStats, CostEstimator, DynamicBatcher, Prompt, TokenBatcher, TokenEstimator

import flyte
import flyte.extras
from flyte_core.extend import Session


class Recorder:
    """A process_fn that records the batches it was given and answers each record with ``f(record)``."""

    def __init__(self, fail_on: object = None) -> None:
        self.batches: list[list[object]] = []
        self.fail_on = fail_on

    async def __call__(self, batch: list[object]) -> list[object]:
        self.batches.append(list(batch))
        if self.fail_on in batch:
            raise ValueError(f"cannot process {self.fail_on!r}")
        return [f"<{r}>" for r in batch]


def test_the_names_are_flyte_extras_names() -> None:
    assert flyte.extras.DynamicBatcher is DynamicBatcher and flyte.extras.TokenBatcher is TokenBatcher
    assert flyte.extras.Prompt is Prompt and flyte.extras.BatchStats is BatchStats
    assert isinstance(Prompt("abcdefgh"), TokenEstimator) and not isinstance(Prompt("x"), CostEstimator)
    assert Prompt("abcdefgh").estimate_tokens() == 3


def test_records_batch_up_to_the_cost_budget_and_come_back_in_order() -> None:
    fn = Recorder()

    async def go() -> list[object]:
        # A long timeout: only the budget (10) closes batches; stop() flushes the last one.
        async with DynamicBatcher(fn, target_batch_cost=10, batch_timeout_s=60) as b:
            futures = await b.submit_batch(list(range(7)), estimated_cost=[4, 4, 4, 4, 1, 1, 1])
            first = await futures[0]
            assert first == "<0>"
        return list(await asyncio.gather(*futures))

    assert asyncio.run(go()) == [f"<{i}>" for i in range(7)]
    assert fn.batches == [[0, 1, 2], [3, 4, 5, 6]]


def test_max_batch_size_caps_a_batch_and_stats_count_everything() -> None:
    fn = Recorder()

    async def go() -> BatchStats:
        b: DynamicBatcher[object, object] = DynamicBatcher(fn, max_batch_size=2, batch_timeout_s=60)
        await b.start()
        assert b.is_running
        with pytest.raises(RuntimeError, match="already running"):
            await b.start()
        futures = [await b.submit(i) for i in range(5)]
        await b.stop()
        assert not b.is_running and all(f.done() for f in futures)
        with pytest.raises(RuntimeError, match="not running"):
            await b.submit(9)
        return b.stats

    stats = asyncio.run(go())
    assert fn.batches == [[0, 1], [2, 3], [4]]
    assert (stats.total_submitted, stats.total_completed, stats.total_batches, stats.total_batch_cost) == (5, 5, 3, 5)
    assert stats.avg_batch_size == 5 / 3 and 0.0 <= stats.utilization <= 1.0


def test_costs_come_from_the_estimator_then_the_record_then_the_default() -> None:
    @dataclasses.dataclass
    class Req:
        size: int

        def estimate_cost(self) -> int:
            return self.size

    seen: list[int] = []

    async def go() -> None:
        async with DynamicBatcher(Recorder(), default_cost=7) as b:
            for rec, override in ((Req(3), None), ("plain", None), (Req(3), 11)):
                await b.submit(rec, estimated_cost=override)
            seen.append(b.stats.total_submitted)
        async with DynamicBatcher(Recorder(), cost_estimator=len) as b2:
            await b2.submit("abcd")
        seen.extend([b.stats.total_batch_cost, b2.stats.total_batch_cost])

    asyncio.run(go())
    assert seen == [3, 3 + 7 + 11, 4]


def test_a_failing_batch_fails_its_own_futures_only() -> None:
    fn = Recorder(fail_on="bad")

    async def go() -> tuple[BaseException | None, object]:
        async with DynamicBatcher(fn, max_batch_size=1) as b:
            bad = await b.submit("bad")
            good = await b.submit("good")
        return bad.exception(), good.result()  # stop() has resolved both

    err, good = asyncio.run(go())
    assert isinstance(err, ValueError) and "cannot process 'bad'" in str(err) and good == "<good>"


def test_a_wrong_number_of_results_is_an_error_for_that_batch() -> None:
    async def short(batch: list[int]) -> list[int]:
        return batch[:-1]

    async def go() -> None:
        async with DynamicBatcher(short, batch_timeout_s=60) as b:
            futures = await b.submit_batch([1, 2])
        for f in futures:
            with pytest.raises(ValueError, match="returned 1 results for a batch of 2 records"):
                await f

    asyncio.run(go())


def test_min_batch_size_holds_records_back_until_enough_arrive() -> None:
    fn = Recorder()

    async def go() -> None:
        async with DynamicBatcher(fn, min_batch_size=3, batch_timeout_s=0.01) as b:
            first = await b.submit("a")
            await asyncio.sleep(0.05)  # several timeouts pass: one record is not enough
            assert not first.done() and fn.batches == []
            await b.submit_batch(["b", "c"])
            assert await first == "<a>"

    asyncio.run(go())
    assert fn.batches == [["a", "b", "c"]]


def test_token_batcher_budgets_tokens() -> None:
    fn = Recorder()

    async def go() -> list[object]:
        async with TokenBatcher(inference_fn=fn, target_batch_tokens=5, batch_timeout_s=60) as b:
            futures = [await b.submit(Prompt("x" * 8)),  # 3 tokens
                       await b.submit(Prompt("y" * 8)),  # 3 more: the budget is reached
                       await b.submit("raw", estimated_tokens=2)]
        return [await f for f in futures]

    results = asyncio.run(go())
    assert [len(batch) for batch in fn.batches] == [2, 1] and results[2] == "<raw>"
    with pytest.raises(TypeError, match="TokenBatcher needs inference_fn"):
        TokenBatcher()
    with pytest.raises(ValueError, match="max_batch_size must be at least 1"):
        DynamicBatcher(fn, max_batch_size=0)


env = flyte.TaskEnvironment("batching")


async def _upper(batch: list[str]) -> list[str]:
    return [s.upper() for s in batch]


@env.task
async def shout_all(words: list[str]) -> tuple[list[str], int]:
    async with DynamicBatcher(_upper, max_batch_size=2, batch_timeout_s=60) as b:
        futures = await b.submit_batch(words)
    return [await f for f in futures], b.stats.total_batches


def test_inside_a_task(tmp_path: Path) -> None:
    s = Session(backend="local", data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                root_dir=Path(__file__).parent)
    try:
        assert s.run(shout_all, ["a", "b", "c"]).outputs()[0] == (["A", "B", "C"], 2)
    finally:
        s.close()
