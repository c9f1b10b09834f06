"""flyte.extras.Sleep: a task whose environment carries Sleep() waits for its duration input (a durable
sleep, recorded as a child entry and replayed by a retry), then runs its body, on the local backends."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pytest
from flyte_containertask.sleep import SleepTask, sleep_seconds

import flyte.extras
from flyte_core.extend import FlyteUsageError, RuntimeUserError, Session

sys.path.insert(0, str(Path(__file__).parent))
import sleep_tasks


def test_the_duration_is_the_numeric_input_or_the_one_named_duration() -> None:
    assert sleep_seconds("t", {"d": datetime.timedelta(minutes=2), "label": "x"}) == 120
    assert sleep_seconds("t", {"seconds": 3, "flag": True}) == 3.0  # a bool is not a duration
    assert sleep_seconds("t", {"duration": 1.5, "other": 9}) == 1.5
    with pytest.raises(FlyteUsageError, match=r"Task 't' is a Sleep task.*got a, b"):
        sleep_seconds("t", {"a": 1, "b": 2})
    with pytest.raises(FlyteUsageError, match=r"Task 't' is a Sleep task.*got none"):
        sleep_seconds("t", {"label": "x"})
    with pytest.raises(FlyteUsageError, match=r"asked to wait -1\.0 seconds"):
        sleep_seconds("t", {"duration": -1})


def test_sleep_task_always_carries_sleep() -> None:
    base = sleep_tasks.no_duration
    made = SleepTask(func=base.func, env=base.env, name="made", short_name="made", interface=base.interface,
                     is_async=False, cache=base.cache, retries=base.retries, timeout=None)
    assert isinstance(made.plugin_config, flyte.extras.Sleep) and flyte.extras.SleepTask is SleepTask


@pytest.mark.parametrize("backend", ["local", "local-process"])
def test_a_sleep_task_waits_then_runs_its_body(tmp_path: Path, backend: str) -> None:
    s = Session(backend=backend, data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                root_dir=Path(sleep_tasks.__file__).parent)
    try:
        run = s.run(sleep_tasks.main)
        assert run.outputs()[0] == "woke after 0.05s"
        actions = run.actions()
        (waited,) = [a for a in actions if a.task == "sleeper.wait"]
        (slept,) = [a for a in actions if a.task == "durable:sleep"]
        assert slept.parent == waited.action  # the wait is the Sleep task's own durable sleep

        retried = s.run(sleep_tasks.wait_then_fail_once, 0.05)
        assert retried.outputs()[0] == 1
        # the second attempt replays the first one's sleep instead of starting a new one
        assert len([a for a in retried.actions() if a.task == "durable:sleep"]) == 1

        with pytest.raises(RuntimeUserError, match=r"Task 'sleeper.no_duration' is a Sleep task"):
            s.run(sleep_tasks.no_duration, "x")
    finally:
        s.close()
