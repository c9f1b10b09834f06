"""Tasks the UI tests run: a pipeline with a group, a retried task, a failing branch and a
report=True task; a run that fails; and a task that waits for the test to let it finish."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import flyte
import flyte.errors
import flyte.report

env = flyte.TaskEnvironment(name="uitest")

#: Events live tasks wait on, by key (the in-process backend runs bodies in this process).
GATES: dict[str, threading.Event] = {}


@env.task
def square(x: int) -> int:
    print(f"squaring {x}")
    return x * x


@env.task
def explode(x: int) -> int:
    print(f"about to fail on {x}")
    raise ValueError(f"bad <input> {x}")


@env.task(retries=2)
def flaky(marker: str) -> str:
    first = not os.path.exists(marker)
    Path(marker).write_text("seen")
    if first:
        raise RuntimeError("first attempt fails")
    return "second attempt worked"


@env.task(report=True)
def summarize(values: list[int]) -> dict[str, int]:
    print(f"summarizing {len(values)} values")
    flyte.report.log("<h2>Summary</h2>")
    flyte.report.log(f"<p>total is {sum(values)}</p>")
    flyte.report.get_tab("Details").log("<ul><li>detail one</li></ul>")
    return {"total": sum(values), "count": len(values)}


@env.task
def pipeline(n: int, marker: str) -> dict[str, int]:
    with flyte.group("squares"):
        values = [square(i) for i in range(n)]
    try:
        explode(n)
    except flyte.errors.RuntimeUserError:
        print("the failing branch failed, as planned")
    flaky(marker)
    return summarize(values)


@env.task
def doomed(x: int) -> int:
    return explode(x)


@env.task
def waiter(key: str) -> str:
    print(f"waiting for {key}")
    if not GATES[key].wait(60):
        raise TimeoutError(f"nobody released {key}")
    print(f"released {key}")
    return f"done {key}"
