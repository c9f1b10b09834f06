"""Reusable containers (``flyte.ReusePolicy``) on a real engine: warm workers per environment,
module state kept between calls, concurrency for async tasks, scaling down when idle, timeouts,
failures and crashes on a shared worker, and nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from conftest import BASE_IMAGE, containers_of
from flyte_backend_docker.backend import DockerBackend
from flyte_backend_docker.labels import RUN_LABEL
from flyte_backend_docker.pool import POOL_LABEL

from flyte_core.extend import BaseRuntimeError, RunOptions, Session

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("docker_client")]

TASKS = '''
import asyncio, os, socket, time
import flyte

pool = flyte.TaskEnvironment(name="pool", reusable=flyte.ReusePolicy(replicas=2))
solo = flyte.TaskEnvironment(name="solo", reusable=flyte.ReusePolicy(replicas=1))
wide = flyte.TaskEnvironment(name="wide", reusable=flyte.ReusePolicy(replicas=1, concurrency=4))
brief = flyte.TaskEnvironment(name="brief", reusable=flyte.ReusePolicy(replicas=(1, 2), idle_ttl=1))
tight = flyte.TaskEnvironment(name="tight", resources=flyte.Resources(memory="64Mi"),
                              reusable=flyte.ReusePolicy(replicas=1))
plain = flyte.TaskEnvironment(name="plain")

COUNT = 0


def bump() -> int:
    global COUNT
    COUNT += 1
    return COUNT


@pool.task
def host(i: int) -> str:
    print(f"item {i} on its way")
    return f"{socket.gethostname()}/{i * i}"


@plain.task
def fan(n: int) -> list[str]:
    return list(flyte.map(host, range(n)))


@solo.task
def count() -> str:
    return f"{socket.gethostname()}/{bump()}"


@solo.task
def slow(s: int) -> int:
    time.sleep(s)
    return s


@solo.task
def boom(x: int) -> int:
    bump()
    raise ValueError(f"bad input {x}")


@solo.task
def loud(n: int) -> int:
    raise ValueError("x" * n)


@plain.task
def loud_then_count(n: int) -> list[str]:
    first = count()
    try:
        loud(n)
        outcome = "no error"
    except Exception as e:
        outcome = str(e)
    return [first, str("x" * n in outcome), count()]


@solo.task
def die() -> int:
    print("about to exit hard", flush=True)
    os._exit(3)


@solo.task
def nested(n: int) -> list[str]:
    return [count() for _ in range(n)]


@plain.task
def counts(n: int) -> list[str]:
    return [count() for _ in range(n)]


@plain.task
def timeout_then_count() -> list[str]:
    first = count()
    try:
        slow.override(timeout=2)(120)
        outcome = "no timeout"
    except Exception as e:
        outcome = f"{type(e).__name__}: {e}"
    return [first, outcome, count(), count()]


@plain.task
def fail_then_count() -> list[str]:
    first = count()
    try:
        boom(7)
        outcome = "no error"
    except Exception as e:
        outcome = str(e)
    return [first, outcome, count()]


@plain.task
def crash_then_count() -> list[str]:
    first = count()
    try:
        die()
        outcome = "no crash"
    except Exception as e:
        outcome = f"{getattr(e, 'code', type(e).__name__)}: {e}"
    return [first, outcome, count()]


@wide.task
async def span(s: float) -> tuple[str, float, float]:
    start = time.time()
    await asyncio.sleep(s)
    return socket.gethostname(), start, time.time()


@plain.task
async def spans(n: int) -> list[tuple[str, float, float]]:
    return list(await asyncio.gather(*[span(1.5) for _ in range(n)]))


@brief.task
def brief_host() -> str:
    return socket.gethostname()


@plain.task
def idle_then_call(flag: str) -> list[str]:
    first = brief_host()
    deadline = time.time() + 120
    while not os.path.exists(flag) and time.time() < deadline:
        time.sleep(0.1)
    return [first, brief_host()]


@tight.task
def hog(mb: int) -> int:
    blocks = [bytearray(1024 * 1024) for _ in range(mb)]
    return len(blocks)


@solo.task(report=True, retries=1)
def writes_everything(n: int) -> str:
    """Resumes from its first attempt's checkpoint, reports, and returns a value too big to inline."""
    cp = flyte.ctx().checkpoint
    restored = cp.load_sync()
    if restored is None:
        cp.save_sync(b"step one")
        raise RuntimeError("stopping after the first checkpoint")
    flyte.report.log(f"<p>resumed from {restored.read_text()}</p>")
    return restored.read_text() + "/" + "v" * n


@plain.task
def quiet_then_loud(n: int) -> list[str]:
    return [count(), count(), writes_everything(n)[:20]]
'''


def pool_containers(client: docker.DockerClient, env: str, run: str) -> list[Any]:
    """The warm containers of ``env`` in ``run`` (other runs on the engine may have pools of that name)."""
    return client.api.containers(all=True, filters={"label": [f"{POOL_LABEL}={env}", f"{RUN_LABEL}={run}"]})


def wait_until(check: Callable[[], bool], timeout: float = 120.0) -> bool:
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            return False
        time.sleep(0.1)
    return True


#: The task module the conftest's ``project``, ``session`` and ``tasks`` fixtures provide.
TASK_MODULE = ("reuse_tasks", TASKS)


def test_reusable_is_honoured() -> None:
    assert "reusable" in DockerBackend.honours


def test_map_runs_on_at_most_replicas_containers(session: Session, tasks: Any,
                                                 docker_client: docker.DockerClient) -> None:
    run = session.run(tasks.fan, n=20)
    results = run.outputs()[0]
    assert [r.split("/")[1] for r in results] == [str(i * i) for i in range(20)]
    hosts = {r.split("/")[0] for r in results}
    assert 1 <= len(hosts) <= 2
    lines = [log.line for log in run.logs() if log.stream == "stdout"]
    assert {f"item {i} on its way" for i in range(20)} <= set(lines)  # each attempt's output, captured
    assert containers_of(docker_client, run.name) == []


def test_store_folders_are_lent_only_to_attempts_that_write_them(session: Session, tasks: Any,
                                                                  project: Path) -> None:
    """A warm attempt that writes nothing gets no folder of its own in the store; one that checkpoints,
    reports and offloads borrows both, and after the run they are real folders at their usual places."""
    run = session.run(tasks.quiet_then_loud, 300_000)
    assert run.outputs()[0][2] == "step one/" + "v" * 11
    run_dir = project / "data" / "runs" / run.name
    actions = session.runs.get_actions(run.name)
    quiet = [a.action for a in actions if a.task.endswith(".count")]
    (loud,) = [a.action for a in actions if a.task.endswith(".writes_everything")]
    assert len(quiet) == 2
    for action in quiet:  # nothing of theirs in the store: no folder was lent, made or removed
        assert not os.path.lexists(run_dir / action)
        assert not list((run_dir / "data").glob(f"{action}-*"))
    for folder in (run_dir / loud, run_dir / "data" / f"{loud}-2"):
        assert folder.is_dir() and not folder.is_symlink()
    assert sorted(p.name for p in (run_dir / loud).iterdir()) == ["checkpoint-1", "report.html"]
    assert "resumed from step one" in (run_dir / loud / "report.html").read_text()
    assert [p.stat().st_size > 300_000 for p in (run_dir / "data" / f"{loud}-2").iterdir()] == [True]


def test_module_state_persists_between_calls(session: Session, tasks: Any) -> None:
    results = session.run(tasks.counts, n=5).outputs()[0]
    assert len({r.split("/")[0] for r in results}) == 1
    assert [r.split("/")[1] for r in results] == ["1", "2", "3", "4", "5"]


def test_a_task_can_call_tasks_of_its_own_environment(session: Session, tasks: Any) -> None:
    # One replica, busy with the caller: it lends its place to the children instead of deadlocking.
    results = session.run(tasks.nested, n=3).outputs()[0]
    assert [r.split("/")[1] for r in results] == ["1", "2", "3"]


def test_async_attempts_share_a_container_up_to_concurrency(session: Session, tasks: Any) -> None:
    spans = session.run(tasks.spans, n=4).outputs()[0]
    assert len({h for h, _, _ in spans}) == 1
    assert max(start for _, start, _ in spans) < min(end for _, _, end in spans)  # all at once


def test_idle_ttl_shrinks_the_pool(session: Session, tasks: Any, project: Path,
                                   docker_client: docker.DockerClient) -> None:
    flag = project / "data" / "go"
    flag.parent.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    name = f"idle-{uuid.uuid4().hex[:8]}"
    worker = threading.Thread(target=lambda: result.update(
        run=session.run_with(RunOptions(name=name), tasks.idle_then_call, (), {"flag": str(flag)})))
    worker.start()
    try:
        assert wait_until(lambda: len(pool_containers(docker_client, "brief", name)) == 1), "no warm container started"
        assert wait_until(lambda: pool_containers(docker_client, "brief", name) == [], 60), (
            "the idle pool did not shrink")
    finally:
        flag.write_text("go")
        worker.join(300)
    first, second = result["run"].outputs()[0]
    assert first != second  # a new container, started on demand
    assert containers_of(docker_client, result["run"].name) == []


def test_timeout_replaces_the_worker(session: Session, tasks: Any, docker_client: docker.DockerClient) -> None:
    run = session.run(tasks.timeout_then_count)
    first, outcome, again, more = run.outputs()[0]
    # Flyte 2's class for a per-attempt timeout (its .code stays TaskTimeoutError).
    assert outcome.startswith("MaxRuntimeExceededError") and "timeout of 2s" in outcome
    assert first.split("/")[0] != again.split("/")[0]  # the timed-out worker was killed and replaced
    assert again.split("/")[1] == "1" and more == f"{again.split('/')[0]}/2"
    assert containers_of(docker_client, run.name) == []


def test_task_error_keeps_its_traceback_and_the_worker(session: Session, tasks: Any) -> None:
    with pytest.raises(BaseRuntimeError) as ei:
        session.run(tasks.boom, x=3)
    assert ei.value.code == "ValueError"
    assert "bad input 3" in str(ei.value) and 'raise ValueError(f"bad input {x}")' in str(ei.value)
    first, outcome, after = session.run(tasks.fail_then_count).outputs()[0]
    assert "bad input 7" in outcome and "in boom" in outcome
    assert after == f"{first.split('/')[0]}/3"  # same worker, module state intact (boom counted too)


def test_an_outcome_too_long_for_one_message_comes_back_whole(session: Session, tasks: Any) -> None:
    from flyte_backend_docker.pool import MAX_MESSAGE

    # An error message longer than the control connection's longest message: the outcome goes
    # through the worker's own folder instead, and the worker serves the next call as before.
    first, whole, after = session.run(tasks.loud_then_count, n=MAX_MESSAGE + 1000).outputs()[0]
    assert whole == "True"
    assert after == f"{first.split('/')[0]}/2"


def test_crash_fails_its_attempts_with_the_last_lines(session: Session, tasks: Any,
                                                      docker_client: docker.DockerClient) -> None:
    run = session.run(tasks.crash_then_count)
    first, outcome, again = run.outputs()[0]
    assert outcome.startswith("TaskInterruptedError") and "code 3" in outcome
    assert "about to exit hard" in outcome
    assert first.split("/")[0] != again.split("/")[0] and again.endswith("/1")
    assert containers_of(docker_client, run.name) == []


def test_oom_on_a_reusable_worker_names_the_limit(session: Session, tasks: Any,
                                                  docker_client: docker.DockerClient) -> None:
    with pytest.raises(BaseRuntimeError) as ei:
        session.run(tasks.hog, mb=400)
    assert ei.value.code == "OOMError"
    assert "exceeded its memory limit of 64Mi" in str(ei.value)
    assert containers_of(docker_client, ei.value.run.name) == []  # type: ignore[attr-defined]


def test_ctrl_c_removes_the_warm_containers(project: Path, docker_client: docker.DockerClient) -> None:
    stopreuse = f"stopreuse-{uuid.uuid4().hex[:8]}"  # counts only this run's containers
    env = {**os.environ, "FLYTE_HOME": str(project / "home"), "FLYTE_DOCKER_BASE_IMAGE": BASE_IMAGE}
    cmd = [sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--backend", "docker", "--name",
           stopreuse, "reuse_tasks.py", "slow", "--s", "600"]
    proc = subprocess.Popen(cmd, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_until(lambda: any(c["State"] == "running" for c in containers_of(docker_client, stopreuse)))
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=300)  # a guard against a hang, not a timing
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert containers_of(docker_client, stopreuse) == []
    shown = json.loads(subprocess.run([sys.executable, "-m", "flyte_core.cli", "runs", "show", stopreuse, "--json"],
                                      cwd=project, env=env, capture_output=True, text=True).stdout)
    assert {a["phase"] for a in shown["actions"]} == {"aborted"}
