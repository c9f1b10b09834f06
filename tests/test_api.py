"""The Flyte 2 API surface on the local backend: nesting, async, map, group, trace, ctx,
retries, timeouts, errors, and the bookkeeping in the run store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import flyte
import flyte.errors
from flyte_core.errors.core import TaskDefinitionError, TaskInputError
from tests import seed_tasks as t


@pytest.fixture(autouse=True)
def _init() -> None:
    flyte.init()


def test_async_fan_out_with_gather() -> None:
    assert flyte.run(t.fan_out, n=6).outputs()[0] == [0, 1, 4, 9, 16, 25]


def test_nesting_at_depth_async_and_sync() -> None:
    run = flyte.run(t.depth, n=5)
    assert run.outputs()[0] == 5
    assert [a.action for a in run.actions()][-1] == "a0.1.1.1.1.1"
    assert flyte.run(t.sync_depth, n=4).outputs()[0] == 4


def test_map_over_sync_tasks_runs_in_parallel(no_thread_leak: None) -> None:
    start = time.perf_counter()
    names = flyte.run(t.parallel_map, n=8).outputs()[0]
    elapsed = time.perf_counter() - start
    assert len(set(names)) > 1, "map items should run on several threads"
    assert elapsed < 8 * 0.2, f"8 x 0.2s items took {elapsed:.2f}s: not parallel"


def test_map_return_exceptions_and_aio_with_limit() -> None:
    out = flyte.run(t.map_with_errors, n=5).outputs()[0]
    assert out[1:3] == ["1", "2"] and out[4] == "4"
    assert "ValueError" in out[0] and "no 0" in out[0] and "no 3" in out[3]
    assert flyte.run(t.map_aio, n=7, limit=2).outputs()[0] == [i * i for i in range(7)]


def test_async_task_calls_sync_task_with_aio() -> None:
    assert flyte.run(t.async_calls_sync, x=4).outputs()[0] == 8


def test_sync_call_from_async_task_is_refused_with_a_hint() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError) as ei:
        flyte.run(t.async_calls_sync_wrongly, x=1)
    assert ei.value.code == "SyncTaskCallInAsyncContextError"
    assert ".aio(" in str(ei.value)


def test_failure_surfaces_with_the_tasks_traceback_and_action_path() -> None:
    with pytest.raises(flyte.errors.RuntimeUserError) as ei:
        flyte.run(t.calls_boom, x=7)
    err = ei.value
    assert err.code == "ValueError"
    text = str(err)
    assert "boom 7" in text
    assert 'raise ValueError(f"boom {x}")' in text  # the task's own source line
    assert "a0.1" in text
    assert "flyte_core" not in err.info.traceback  # type: ignore[attr-defined]
    run = err.run  # type: ignore[attr-defined]
    assert run.phase == flyte.ActionPhase.FAILED
    phases = {a.action: a.phase.value for a in run.actions()}
    assert phases == {"a0": "failed", "a0.1": "failed"}


def test_retries_count_attempts(tmp_path: Path) -> None:
    run = flyte.run(t.flaky, path=str(tmp_path / "n"))
    assert run.outputs()[0] == 3
    assert run.actions()[0].attempts == 3


def test_retries_exhausted_keeps_the_last_error(tmp_path: Path) -> None:
    task = t.flaky.override(retries=1)
    with pytest.raises(flyte.errors.RuntimeUserError) as ei:
        flyte.run(task, path=str(tmp_path / "n"))
    assert "attempt 2 fails" in str(ei.value)


def test_timeout_stops_a_sync_task(no_thread_leak: None) -> None:
    start = time.perf_counter()
    with pytest.raises(flyte.errors.TaskTimeoutError) as ei:
        flyte.run(t.sleepy, seconds=10)
    assert time.perf_counter() - start < 5
    assert "timeout of 1s" in str(ei.value)
    assert ei.value.run.phase == flyte.ActionPhase.TIMED_OUT  # type: ignore[attr-defined]


def test_timeout_stops_an_async_task() -> None:
    with pytest.raises(flyte.errors.TaskTimeoutError):
        flyte.run(t.async_sleepy, seconds=10)


def test_group_and_trace_are_recorded() -> None:
    run = flyte.run(t.grouped, n=3)
    assert run.outputs()[0] == 6
    assert {a.group for a in run.actions() if a.parent == "a0"} == {"stage-1"}
    run = flyte.run(t.traced, x=1)
    assert run.outputs()[0] == 2
    assert [a.task for a in run.actions()] == ["my_env.traced", "trace:helper"]


def test_ctx_logger_and_custom_context_inside_tasks() -> None:
    run = flyte.with_runcontext(custom_context={"team": "core"}).run(t.nested_info, x=1)
    info = run.outputs()[0]
    assert info == {"action": "a0.1", "run": run.name, "attempt": "1", "custom": "core"}
    lines = [(line.action, line.line) for line in run.logs()]
    assert ("a0.1", "printed by a0.1") in lines
    assert any(a == "a0.1" and "context for a0.1" in line for a, line in lines)
    assert not flyte.ctx() and flyte.ctx().action is None  # Flyte 2: a falsy null context outside tasks


def test_with_runcontext_backend_name_and_unknown_backend() -> None:
    run = flyte.with_runcontext(backend="local", name="my-run").run(t.greet, name="x")
    assert run.name == "my-run"
    with pytest.raises(flyte.errors.FlyteUsageError, match="No backend named 'nope'"):
        flyte.with_runcontext(backend="nope").run(t.greet, name="x")


def test_init_backend_choice() -> None:
    s = flyte.init(backend="local")
    assert s.backend_name == "local"


def test_round_trip_of_core_types() -> None:
    args = dict(a=1, b=2.5, c="s", d=True, e=b"\x00\xff", f=[1, 2], g={"k": 1.5}, h=(3, "x"),
                j=[{"a": [1]}])
    out = flyte.run(t.echo, **args).outputs()[0]
    assert out == (1, 2.5, "s", True, b"\x00\xff", [1, 2], {"k": 1.5}, (3, "x"), None, [{"a": [1]}])


def test_bad_inputs_name_the_task_and_parameter() -> None:
    with pytest.raises(TaskInputError, match=r"Task 'my_env\.greet', input 'name': expected str, got int"):
        flyte.run(t.greet, name=3)
    with pytest.raises(TaskInputError, match="missing required input 'name'"):
        flyte.run(t.greet)
    with pytest.raises(TaskInputError, match="has no input 'nmae'"):
        flyte.run(t.greet, nmae="x")
    with pytest.raises(TypeError, match=r"flyte\.run needs a task"):
        flyte.run(print, "x")  # type: ignore[arg-type]


def test_untyped_input_is_refused_when_the_task_runs_not_at_decoration() -> None:
    env = flyte.TaskEnvironment(name="hints")

    @env.task
    def f(x: int, y) -> int:  # type: ignore[no-untyped-def]
        return x

    @env.task
    def fine(x: int) -> int:
        return x + 1

    assert flyte.run(fine, x=1).outputs()[0] == 2  # the file's other tasks stay usable
    with pytest.raises(TaskDefinitionError, match=r"Task 'hints.f': parameter 'y' has no type hint"):
        flyte.run(f, x=1, y=2)


def test_missing_return_annotation_means_no_outputs() -> None:
    env = flyte.TaskEnvironment(name="noret")
    seen: list[int] = []

    @env.task
    def side_effect(x: int):  # type: ignore[no-untyped-def]
        seen.append(x)

    @env.task
    def returns_anyway(x: int):  # type: ignore[no-untyped-def]
        return x

    run = flyte.run(side_effect, x=4)
    assert seen == [4] and run.outputs() == () and side_effect.interface.output is None
    with pytest.raises(flyte.errors.RuntimeUserError, match=r"Task 'noret.returns_anyway' declares no outputs"):
        flyte.run(returns_anyway, x=1)


def test_task_decorator_with_arguments_and_settings_objects() -> None:
    env = flyte.TaskEnvironment(
        name="settings", resources=flyte.Resources(cpu=1, memory="1Gi"), env_vars={"A": "1"},
        secrets=[flyte.Secret(key="api-key")], cache="auto", reusable=flyte.ReusePolicy(replicas=2),
        image=flyte.Image.from_debian_base().with_pip_packages("requests"),
    )

    @env.task(retries=flyte.RetryStrategy(count=1), timeout=flyte.Timeout(max_runtime=30),
              cache=flyte.Cache(behavior="auto", version_override="v1"), short_name="double")
    def double(x: int) -> int:
        return x * 2

    assert double(2) == 4  # outside a run: a plain call
    run = flyte.run(double, x=2)
    assert run.outputs()[0] == 4
    reported = " ".join(run.notices)
    for setting in ("resources", "secrets", "image", "reusable", "env_vars"):
        assert f"'{setting}'" in reported, f"{setting} not reported in {run.notices}"
    assert "timeout" not in reported and "retries" not in reported and "'cache'" not in reported


def test_env_name_must_be_snake_or_kebab_case() -> None:
    with pytest.raises(ValueError, match="snake_case or kebab-case"):
        flyte.TaskEnvironment(name="Bad Name")


def test_nothing_is_left_running_after_runs(no_thread_leak: None) -> None:
    flyte.run(t.pipeline, x=1)
    flyte.run(t.fan_out, n=3)
    with pytest.raises(flyte.errors.RuntimeUserError):
        flyte.run(t.boom, x=1)


def test_map_items_are_grouped() -> None:
    run = flyte.run(t.parallel_map, n=3)
    assert {a.group for a in run.actions() if a.parent == "a0"} == {"my_env.slow_thread_name_map"}
    run = flyte.run(t.map_aio, n=3, limit=2)
    assert {a.group for a in run.actions() if a.parent == "a0"} == {"my_env.square_map"}


def test_backoff_waits_between_attempts(tmp_path: Path) -> None:
    from datetime import timedelta

    task = t.flaky.override(retries=flyte.RetryStrategy(count=2, backoff=flyte.Backoff(
        base=timedelta(seconds=0.2), factor=2.0, cap=timedelta(seconds=1))))
    run = flyte.run(task, path=str(tmp_path / "n"))
    assert run.outputs()[0] == 3
    store = flyte.current_session().runs
    starts = [e.at for e in store.get_events(run.name, "a0") if e.phase.value == "running"]
    assert len(starts) == 3
    assert starts[1] - starts[0] >= 0.2 and starts[2] - starts[1] >= 0.4  # base, then base * factor


def test_aio_forms_of_run() -> None:
    import asyncio

    async def main() -> tuple[str, str]:
        a = await flyte.run.aio(t.greet, name="a")
        b = await flyte.with_runcontext(name="aio-run").run.aio(t.greet, name="b")
        return str(a), b.name

    assert asyncio.run(main()) == ("Hello, a!", "aio-run")
