"""Sleep tasks as a user module (imported by worker processes too)."""

from __future__ import annotations

import datetime

import flyte
from flyte.extras import Sleep

sleeper = flyte.TaskEnvironment("sleeper", plugin_config=Sleep())
env = flyte.TaskEnvironment("sleep_caller", depends_on=[sleeper])


@sleeper.task
async def wait(duration: datetime.timedelta, label: str) -> str:
    return f"{label} after {duration.total_seconds()}s"


@sleeper.task(retries=1)
def wait_then_fail_once(seconds: float) -> int:
    ctx = flyte.ctx()
    if ctx.attempt_number == 0:
        raise RuntimeError("first attempt fails after its sleep")
    return ctx.attempt_number


@sleeper.task
def no_duration(label: str) -> str:
    return label


@env.task
async def main() -> str:
    return await wait(duration=datetime.timedelta(milliseconds=50), label="woke")
