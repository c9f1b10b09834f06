"""OOM kills on a real engine: every container of a burst killed for memory at once is reported
as such, and a task killed for memory fails with ``OOMError`` whichever container it ran in (a
standby one, one of its own, or a container task's)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import uuid
from pathlib import Path
from typing import Any

import docker
import pytest
from conftest import BASE_IMAGE, containers_of, docker_session
from flyte_backend_docker.engine import ExitWatch

from flyte_core.extend import BaseRuntimeError, RunOptions, Session

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("docker_client")]

#: Touches 300 MiB, in a container allowed 64 MiB (and no swap), a second after it starts, as a
#: task does after its worker's start. Docker 20.10's runtime begins watching a container for OOM
#: kills only once its process runs: one killed within its first moments can go unreported by
#: any means (flag and event alike), and ends as an exit 137, which the error message explains.
HOG = "import time\ntime.sleep(1)\nb = bytearray(300 * 1024 * 1024)\nfor k in range(0, len(b), 4096): b[k] = 1"

TASK_MODULE = ("oomtasks", f'''
import asyncio
import flyte
from flyte.extras import ContainerTask

env = flyte.TaskEnvironment(name="oom", resources=flyte.Resources(cpu="0.5", memory="64Mi"))


@env.task
async def hog(i: int) -> int:
    b = bytearray(300 * 1024 * 1024)
    for k in range(0, len(b), 4096):
        b[k] = 1
    return i


raw_hog = ContainerTask(name="raw_hog", image="{BASE_IMAGE}", command=["python3", "-c", {HOG!r}],
                        outputs={{"o": int}}, resources=flyte.Resources(cpu="0.5", memory="64Mi"))


@env.task
async def napper() -> int:
    await asyncio.sleep(600)
    return 0


@env.task
async def burst(n: int) -> list[str]:
    """n hogs at once; what each ended with."""
    async def one(i: int) -> str:
        try:
            await hog(i)
            return "ok"
        except flyte.errors.OOMError:
            return "OOMError"
        except Exception as e:
            return type(e).__name__
    return list(await asyncio.gather(*(one(i) for i in range(n))))
''')


def test_exit_watch_reports_every_oom_kill_of_a_burst(docker_client: docker.DockerClient) -> None:
    """Eight containers OOM-killed at once are all reported; one killed by a signal, and one that
    exits with 137 by itself, are not."""
    label = f"flyte-test-oom={uuid.uuid4().hex}"
    key, value = label.split("=")
    limits = {"mem_limit": "64m", "memswap_limit": "64m"}

    def make(command: list[str]) -> str:
        return str(docker_client.api.create_container(
            BASE_IMAGE, command=command, labels={key: value},
            host_config=docker_client.api.create_host_config(**limits))["Id"])

    async def main() -> tuple[list[bool], bool, bool, list[int]]:
        watch = ExitWatch(docker.from_env, [label], asyncio.get_running_loop())
        watch.start()
        try:
            hogs = [make(["python3", "-c", HOG]) for _ in range(8)]
            sleeper = make(["sleep", "60"])
            self_137 = make(["python3", "-c", "raise SystemExit(137)"])
            everyone = [*hogs, sleeper, self_137]
            exits = [watch.exited(cid) for cid in everyone]
            await asyncio.gather(*(asyncio.to_thread(docker_client.api.start, cid) for cid in everyone))
            docker_client.api.kill(sleeper)
            codes = list(await asyncio.wait_for(asyncio.gather(*exits), 120))
            reported = [await watch.oom_killed(cid, code) for cid, code in zip(everyone, codes)]
            return reported[:8], reported[8], reported[9], codes
        finally:
            watch.close()
            for c in docker_client.api.containers(all=True, filters={"label": label}):
                docker_client.api.remove_container(c["Id"], force=True)

    hogs, killed, exited_137, codes = asyncio.run(main())
    assert codes == [137] * 10
    assert hogs == [True] * 8
    assert not killed and not exited_137


@pytest.mark.parametrize("standby", [True, False], ids=["standby", "own-container"])
def test_a_burst_of_oom_kills_is_every_one_an_oom_error(project: Path, tasks: Any, standby: bool,
                                                        docker_client: docker.DockerClient) -> None:
    session = docker_session(project, standby=standby)
    try:
        run = session.run(tasks.burst, n=8)
        assert run.outputs()[0] == ["OOMError"] * 8
        assert containers_of(docker_client, run.name) == []
    finally:
        session.close()


def test_an_oom_killed_container_task_is_an_oom_error(session: Session, tasks: Any) -> None:
    with pytest.raises(BaseRuntimeError) as ei:
        session.run(tasks.raw_hog)
    assert ei.value.code == "OOMError"
    assert "'raw_hog'" in str(ei.value) and "exceeded its memory limit of 64Mi" in str(ei.value)


def test_a_container_killed_from_elsewhere_says_what_a_137_most_likely_was(
        project: Path, tasks: Any, docker_client: docker.DockerClient) -> None:
    """Killed with SIGKILL by someone else (as the kernel's OOM killer does when the engine missed
    it): a TaskInterruptedError whose message says what code 137 most likely means."""
    session = docker_session(project, standby=False)
    name = f"oomkill{uuid.uuid4().hex[:8]}"
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            ran = pool.submit(session.run_with, RunOptions(name=name), tasks.napper, (), {})
            deadline = time.monotonic() + 300
            while not (running := containers_of(docker_client, name, running=True)):
                assert time.monotonic() < deadline and not ran.done(), "its container never ran"
                time.sleep(0.2)
            time.sleep(1)  # its task is running
            docker_client.api.kill(running[0]["Id"])
            with pytest.raises(BaseRuntimeError) as ei:
                ran.result(timeout=300)
    finally:
        session.close()
    assert ei.value.code == "TaskInterruptedError"
    assert "exited with code 137" in str(ei.value) and "Resources(memory=...)" in str(ei.value)
    assert containers_of(docker_client, name) == []
