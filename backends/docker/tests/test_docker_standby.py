"""Standby containers on a real engine: when an environment's calls follow one another, the
container of its next call starts before that call is made. Every call still runs in a container of
its own, in a fresh process, and a failure, an exit or a timeout there reads as on any fresh
container; the run leaves no container behind, the unused standby included; a fan-out starts none;
``standby: false`` turns it off."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import docker
import pytest
from conftest import containers_of, docker_session
from flyte_backend_docker.labels import RUN_LABEL
from flyte_backend_docker.pool import POOL_LABEL
from test_docker_load import assert_aborted_and_gone, interrupt_when, start_cli_run

from flyte_core.extend import BaseRuntimeError

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("docker_client")]

TASKS = '''
import os, socket, sys, time
import flyte

calls = flyte.TaskEnvironment(name="calls")
driver = flyte.TaskEnvironment(name="driver")

COUNT = 0


@calls.task
def who(i: int) -> str:
    """Which container ran this call, what its first process is, and how often this process ran a call."""
    global COUNT
    COUNT += 1
    with open("/proc/1/cmdline", "rb") as f:
        first = f.read().replace(b"\\0", b" ").decode()
    launcher = "standby" if "pool_worker" in first else "fresh" if "flyte_backend_docker.worker" in first else first
    return f"{socket.gethostname()}|{launcher}|{COUNT}|{i}"


@calls.task
def fails(i: int) -> str:
    raise ValueError(f"bad item {i}")


@calls.task
def leaves(i: int) -> str:
    sys.exit(3)


@calls.task(timeout=1)
def sleeps(i: int) -> str:
    time.sleep(60)
    return "never"


@calls.task
def chain_here(n: int) -> list[str]:
    """The calls made from a task of their own environment (which waits for each)."""
    return [who(i) for i in range(n)]


@calls.task
def nap(i: int) -> int:
    if i == 2:
        time.sleep(600)
    return i


@driver.task
def naps(n: int) -> list[int]:
    return [nap(i) for i in range(n)]


@driver.task
def fan(n: int) -> list[str]:
    return list(flyte.map(who, range(n)))


@driver.task
def chain(n: int, last: str) -> list[str]:
    out = [who(i) for i in range(n)]
    if last == "fails":
        fails(n)
    elif last == "leaves":
        leaves(n)
    elif last == "sleeps":
        sleeps(n)
    return out
'''

#: The task module the conftest's ``project`` and ``tasks`` fixtures provide.
TASK_MODULE = ("sb_tasks", TASKS)


def calls_of(project: Path, task: Any, standby: bool = True, **inputs: Any) -> tuple[str, list[list[str]]]:
    """Run ``task`` in a docker session of its own: the run's name, and each ``who`` row it returned
    as its fields (container, how it started, calls its process ran, input)."""
    session = docker_session(project, **({} if standby else {"standby": False}))
    try:
        run = session.run(task, **inputs)
        return run.name, [r.split("|") for r in run.outputs()[0]]
    finally:
        session.close()


def test_calls_from_the_third_on_run_on_standby_containers(project: Path, tasks: Any,
                                                           docker_client: docker.DockerClient) -> None:
    run, rows = calls_of(project, tasks.chain, n=5, last="")
    assert [r[3] for r in rows] == ["0", "1", "2", "3", "4"]
    assert len({r[0] for r in rows}) == 5  # a container of its own for every call
    # The first two calls start their own; the second starts the standby the third takes, and so on.
    assert [r[1] for r in rows] == ["fresh", "fresh", "standby", "standby", "standby"]
    assert {r[2] for r in rows} == {"1"}  # a fresh process: no call sees another's module state
    assert containers_of(docker_client, run) == []  # the last, unused standby is gone too


def test_standby_off_starts_every_container_when_called(project: Path, tasks: Any,
                                                        docker_client: docker.DockerClient) -> None:
    run, rows = calls_of(project, tasks.chain, standby=False, n=4, last="")
    assert [r[1] for r in rows] == ["fresh"] * 4
    assert containers_of(docker_client, run) == []


@pytest.mark.parametrize(("last", "code", "message"), [
    ("fails", "ValueError", "bad item 3"),
    ("leaves", "TaskInterruptedError", "exited with code 3 before it finished"),
    ("sleeps", "TaskTimeoutError", "did not finish within its timeout of 1s; its container was stopped"),
])
def test_a_failure_on_a_standby_reads_as_on_a_fresh_container(project: Path, tasks: Any,
                                                              docker_client: docker.DockerClient,
                                                              last: str, code: str, message: str) -> None:
    session = docker_session(project)
    try:
        with pytest.raises(BaseRuntimeError) as ei:
            session.run(tasks.chain, n=3, last=last)
    finally:
        session.close()
    err = ei.value
    assert err.code == code
    assert message in str(err)
    assert "reusable" not in str(err)
    if last == "fails":  # the task's own traceback
        assert "raise ValueError" in str(err) or "raise ValueError" in (getattr(err, "traceback", "") or "")
    assert containers_of(docker_client, err.run.name) == []  # type: ignore[attr-defined]


def test_a_task_calling_its_own_environment_hands_its_calls_standbys(project: Path, tasks: Any,
                                                                    docker_client: docker.DockerClient) -> None:
    run, rows = calls_of(project, tasks.chain_here, n=3)
    # The caller was the environment's first call and waits for each: the first call it makes
    # starts a standby, which the second takes.
    assert [r[1] for r in rows] == ["fresh", "standby", "standby"]
    assert containers_of(docker_client, run) == []


def test_a_fan_out_starts_its_containers_and_nothing_else(project: Path, tasks: Any,
                                                         docker_client: docker.DockerClient) -> None:
    run, rows = calls_of(project, tasks.fan, n=6)
    assert [r[3] for r in rows] == [str(i) for i in range(6)]
    assert len({r[0] for r in rows}) == 6 and {r[2] for r in rows} == {"1"}
    assert containers_of(docker_client, run) == []


def test_ctrl_c_with_a_call_on_a_standby_and_the_next_starting_leaves_nothing(
        project: Path, docker_client: docker.DockerClient) -> None:
    run = f"standby-int-{uuid.uuid4().hex[:8]}"  # this run only: other suites may run on the engine
    proc = start_cli_run(project, run, "naps", "--n", "5", file="sb_tasks.py")

    def standbys() -> int:  # the third call's container, and the standby its call started
        found = docker_client.api.containers(filters={"label": [f"{RUN_LABEL}={run}", POOL_LABEL]})
        return len(found)

    pids, err = interrupt_when(proc, docker_client, run, lambda: standbys() >= 2,
                               "the third call to run on a standby and the next to start")
    assert proc.returncode == 130
    shown = assert_aborted_and_gone(project, docker_client, run, pids, err)
    assert sorted(a["phase"] for a in shown["actions"]) == ["aborted", "aborted", "succeeded", "succeeded"]
