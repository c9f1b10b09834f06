"""flyte-triggers: schedules (croniter, fixed rates), the local scheduler firing real runs, the CLI."""

from __future__ import annotations

import asyncio
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flyte_triggers import TriggerScheduler, fire_once, next_fire
from flyte_triggers.scheduler import TASK_LABEL, TIME_LABEL, TRIGGER_LABEL

import flyte
from flyte_core.extend import FlyteUsageError, Phase, Session
from flyte_core.testing import flyte_cli

T0 = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)

env = flyte.TaskEnvironment("triggered")
# 0.02 minutes: every 1.2 seconds, so a test sees several firings.
every_tick = flyte.Trigger("tick", flyte.FixedRate(0.02), inputs={"when": flyte.TriggerTime, "n": 7},
                           labels={"team": "data"}, custom_context={"source": "tick"})


@env.task(triggers=every_tick)
def stamp(when: datetime, n: int) -> str:
    return f"{when.isoformat()} {n} {flyte.get_custom_context().get('source')}"


@env.task(triggers=flyte.Trigger("slow", flyte.FixedRate(0.01)))
async def slow() -> None:
    await asyncio.sleep(60)


def test_cron_next_fire_follows_the_expression_in_its_timezone() -> None:
    every5 = flyte.Trigger("c", flyte.Cron("*/5 * * * *"))
    assert next_fire(every5, T0, T0) == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    paris = flyte.Trigger("p", flyte.Cron("0 9 * * *", timezone="Europe/Paris"))
    # 09:00 in Paris is 08:00 UTC in March (CET); the next one after 12:00 UTC is tomorrow's.
    assert next_fire(paris, T0, T0).astimezone(UTC) == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert next_fire(flyte.Trigger.daily("t"), T0, T0) == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def test_fixed_rate_counts_from_start_time_or_activation() -> None:
    rate = flyte.Trigger("r", flyte.FixedRate(10))
    assert next_fire(rate, T0, T0) == T0 + timedelta(minutes=10)  # one interval after activation
    later = T0 + timedelta(minutes=25)
    assert next_fire(rate, later, T0) == T0 + timedelta(minutes=30)
    anchored = flyte.Trigger("a", flyte.FixedRate(60, start_time=datetime(2026, 3, 1, 0, 15)))  # naive: UTC
    assert next_fire(anchored, T0, T0) == datetime(2026, 3, 1, 12, 15, tzinfo=UTC)
    future = flyte.Trigger("f", flyte.FixedRate(60, start_time=datetime(2026, 4, 1, tzinfo=UTC)))
    assert next_fire(future, T0, T0) == datetime(2026, 4, 1, tzinfo=UTC)


def test_bad_schedules_and_inputs_are_refused_naming_the_trigger(flyte_session: Session) -> None:
    bad = flyte.TaskEnvironment("bad")

    @bad.task(triggers=flyte.Trigger("oops", flyte.Cron("every day")))
    def a() -> None: ...

    with pytest.raises(FlyteUsageError, match=r"Trigger 'oops'.*not a five-field cron"):
        TriggerScheduler(flyte_session, [a])

    @bad.task(triggers=flyte.Trigger("tz", flyte.Cron("0 * * * *", timezone="Mars/Olympus")))
    def b() -> None: ...

    with pytest.raises(FlyteUsageError, match="Trigger 'tz': unknown timezone 'Mars/Olympus'"):
        TriggerScheduler(flyte_session, [b])

    @bad.task(triggers=flyte.Trigger("noinput", flyte.FixedRate(1)))
    def c(x: int) -> None: ...

    with pytest.raises(FlyteUsageError, match=r"Trigger 'noinput' cannot start task 'bad.c'.*required input"):
        TriggerScheduler(flyte_session, [c])
    with pytest.raises(ValueError, match="sets input 'y', which the task does not have"):
        bad.task(triggers=flyte.Trigger("y", flyte.FixedRate(1), inputs={"y": 1}))(lambda_free)
    with pytest.raises(ValueError, match="only schedule"):
        flyte.Trigger("manual", inputs={"when": flyte.TriggerTime})
    with pytest.raises(FlyteUsageError, match="No scheduled trigger named nope"):
        TriggerScheduler(flyte_session, [stamp], names=["nope"])


def lambda_free(x: int) -> None: ...


def test_fixed_rate_trigger_fires_runs_into_the_run_store(flyte_session: Session) -> None:
    scheduler = TriggerScheduler(flyte_session, [stamp, slow], names=["tick"])
    firings = scheduler.run(max_firings=2)

    assert [f.trigger for f in firings] == ["tick", "tick"]
    first, second = sorted(firings, key=lambda f: f.scheduled)
    assert second.scheduled - first.scheduled == timedelta(minutes=0.02)  # on the schedule, not on the clock
    for f in firings:
        assert f.run is not None
        rec = flyte_session.get_run(f.run)
        assert rec is not None and rec.phase is Phase.SUCCEEDED and rec.task == "triggered.stamp"
        assert rec.labels[TRIGGER_LABEL] == "tick" and rec.labels[TASK_LABEL] == "triggered.stamp"
        assert rec.labels["team"] == "data"
        assert datetime.fromisoformat(rec.labels[TIME_LABEL]) == f.scheduled
        inputs: dict[str, Any] = flyte_session.engine.decode_inputs(
            stamp.name, stamp.interface, rec.inputs or {}, flyte_session.conversion(f.run, "inputs"))
        assert inputs["when"] == f.scheduled and inputs["n"] == 7
        out = flyte.Run(flyte_session, f.run, stamp).outputs()[0]
        assert out == f"{f.scheduled.isoformat()} 7 tick"


def test_stopping_aborts_the_runs_still_going(flyte_session: Session) -> None:
    def on_fire(firing: Any, what: str) -> None:
        if what == "started":
            scheduler.stop(abort=True)

    scheduler = TriggerScheduler(flyte_session, [slow], on_fire=on_fire)
    firings = scheduler.run()  # returns once the aborted run has ended
    assert len(firings) == 1 and firings[0].run is not None
    rec = flyte_session.get_run(firings[0].run)
    assert rec is not None and rec.phase is Phase.ABORTED


def test_cli_runs_triggers_of_a_file(tmp_path: Path) -> None:
    (tmp_path / "sched.py").write_text(textwrap.dedent("""
        from datetime import datetime
        import flyte

        env = flyte.TaskEnvironment("cli_sched")

        @env.task(triggers=[flyte.Trigger("fast", flyte.FixedRate(0.01), inputs={"at": flyte.TriggerTime}),
                            flyte.Trigger("nightly", flyte.Cron("0 3 * * *"), auto_activate=False,
                                          inputs={"at": flyte.TriggerTime})])
        def hello(at: datetime) -> str:
            return "hi " + at.isoformat()
    """))
    runner = CliRunner()
    listed = runner.invoke(flyte_cli(), ["triggers", "list", str(tmp_path / "sched.py")], catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    assert "fast" in listed.output and "nightly" in listed.output and "03:00:00" in listed.output

    result = runner.invoke(flyte_cli(), ["triggers", "run", str(tmp_path / "sched.py"), "--max-runs", "2"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 firing(s)" in result.output
    s = Session()
    try:
        runs = [r for r in s.list_runs() if r.labels.get(TRIGGER_LABEL) == "fast"]
        assert len(runs) == 2 and all(r.phase is Phase.SUCCEEDED for r in runs)
    finally:
        s.close()


def test_fire_once_runs_an_on_demand_trigger_with_its_time(flyte_session: Session) -> None:
    on_demand = flyte.TaskEnvironment("on_demand")

    sched = flyte.Trigger("sched", flyte.Cron("0 * * * *"), inputs={"n": 3, "at": flyte.TriggerTime})

    @on_demand.task(triggers=[flyte.Trigger("manual", inputs={"n": 2}), sched])
    def twice(n: int, at: datetime | None = None) -> str:
        return f"{n * 2} {at.isoformat() if at else '-'}"

    [manual] = fire_once(flyte_session, [twice], "manual")
    assert manual.run is not None and flyte.Run(flyte_session, manual.run, twice).outputs()[0] == "4 -"
    [fired] = fire_once(flyte_session, [twice], "sched", when=datetime(2026, 5, 1, 9, 0))
    assert fired.run is not None and fired.scheduled == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert flyte.Run(flyte_session, fired.run, twice).outputs()[0] == "6 2026-05-01T09:00:00+00:00"
    rec = flyte_session.get_run(fired.run)
    assert rec is not None and rec.labels[TRIGGER_LABEL] == "sched"
    with pytest.raises(FlyteUsageError, match="No trigger named nope; known: manual, sched"):
        fire_once(flyte_session, [twice], "nope")


def test_cli_fire(tmp_path: Path) -> None:
    (tmp_path / "ondemand.py").write_text(textwrap.dedent("""
        import flyte

        env = flyte.TaskEnvironment("cli_fire")

        @env.task(triggers=flyte.Trigger("go", inputs={"x": 5}))
        def double(x: int) -> int:
            return 2 * x
    """))
    result = CliRunner().invoke(flyte_cli(), ["triggers", "fire", str(tmp_path / "ondemand.py"), "go"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "trigger go -> cli_fire.double: run r" in result.output and "succeeded" in result.output


def test_cli_deploy_to_a_backend_without_schedules_is_refused(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text("import flyte\n")
    result = CliRunner().invoke(flyte_cli(), ["triggers", "deploy", str(tmp_path / "t.py"), "--backend", "local"])
    assert result.exit_code == 2
    assert "The 'local' backend cannot keep trigger schedules" in result.output
