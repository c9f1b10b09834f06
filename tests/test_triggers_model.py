"""Trigger models (flyte.Trigger, Cron, FixedRate, OnArtifact, TriggerTime) as Flyte 2 defines them, their
checks at @env.task, and TaskEnvironment.from_task."""

from __future__ import annotations

from datetime import datetime

import pytest

import flyte
from flyte_core.run.settings import unhonoured_settings
from flyte_core.task.triggers import task_triggers


def test_convenience_constructors_bind_the_trigger_time() -> None:
    t = flyte.Trigger.daily("day", inputs={"x": 1}, labels={"a": "b"})
    assert t.name == "daily" and t.automation == flyte.Cron("0 0 * * *")
    assert t.inputs == {"day": flyte.TriggerTime, "x": 1} and t.trigger_time_inputs == ["day"]
    assert flyte.Trigger.hourly().automation == flyte.Cron("0 * * * *") and flyte.Trigger.hourly().inputs == {}
    assert flyte.Trigger.weekly(name="w").automation == flyte.Cron("0 0 * * 0")
    assert flyte.Trigger.monthly().automation == flyte.Cron("0 0 1 * *")
    assert flyte.Trigger.minutely().automation == flyte.Cron("* * * * *")
    assert flyte.Cron("5 * * * *", "Europe/Paris").timezone_expression == "CRON_TZ=Europe/Paris 5 * * * *"
    with pytest.raises(TypeError):
        flyte.Trigger.daily(colour="red")  # type: ignore[call-arg]


def test_invalid_triggers_are_refused_naming_them() -> None:
    with pytest.raises(ValueError, match="name cannot be empty"):
        flyte.Trigger("")
    with pytest.raises(ValueError, match="Trigger 't' binds TriggerTime to input 'at'"):
        flyte.Trigger("t", inputs={"at": flyte.TriggerTime})
    with pytest.raises(ValueError, match="automation is not OnArtifact"):
        flyte.Trigger("t", flyte.Cron("* * * * *"), inputs={"m": flyte.TriggeredArtifact})
    with pytest.raises(ValueError, match="max_action_concurrency must be 0 or at least 2"):
        flyte.Trigger("t", max_action_concurrency=1)
    with pytest.raises(ValueError, match="positive"):
        flyte.FixedRate(0)
    with pytest.raises(TypeError, match="must be a string value"):
        flyte.OnArtifact("model", region=3)  # type: ignore[arg-type]
    art = flyte.OnArtifact("model", region="us")
    assert art.partitions == {"region": "us"}
    ok = flyte.Trigger("a", art, inputs={"m": flyte.TriggeredArtifact, "d": flyte.TriggeredPartition("date")})
    assert ok.automation is art


def test_env_task_checks_its_triggers() -> None:
    env = flyte.TaskEnvironment("trig_model")
    tick = flyte.Trigger("tick", flyte.FixedRate(5, start_time=datetime(2026, 1, 1)), inputs={"at": flyte.TriggerTime})

    @env.task(triggers=tick)
    def one(at: datetime) -> None: ...

    assert task_triggers(one) == (tick,)
    assert "triggers" not in unhonoured_settings(one, frozenset())  # triggers start runs; no backend runs them
    with pytest.raises(ValueError, match="two triggers named 'tick'"):
        env.task(triggers=[tick, tick])(with_at)
    with pytest.raises(ValueError, match=r"Trigger 'tick' of task 'trig_model\.lambda_free' sets input 'at'"):
        env.task(triggers=[tick])(lambda_free)
    with pytest.raises(TypeError, match=r"triggers must be flyte\.Trigger objects"):
        env.task(triggers=["hourly"])(lambda_free)


def lambda_free(x: int) -> None: ...


def with_at(at: datetime) -> None: ...


def test_from_task_refuses_a_task_of_another_environment() -> None:
    env = flyte.TaskEnvironment("owner")

    @env.task
    def owned() -> None: ...

    with pytest.raises(ValueError, match=r"'owner\.owned' already belongs to environment 'owner'"):
        flyte.TaskEnvironment.from_task("other", owned)
    empty = flyte.TaskEnvironment.from_task("empty")
    assert empty.tasks == {} and empty.image == "auto"
