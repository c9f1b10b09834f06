"""``share_network`` on a real engine: every task container of a run joins one network namespace,
held by a container of the run's; each call still gets a container and a process of its own, the
containers have a network interface (their holder's), a raw container task joins too, a holder
stopped mid-run is started again, and the run leaves nothing behind. Without the option every
container has a namespace of its own."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from conftest import BASE_IMAGE, containers_of, docker_session
from flyte_backend_docker.labels import ACTION_LABEL, RUN_LABEL, STORE_LABEL
from flyte_backend_docker.netns import ROLE_LABEL
from test_docker_load import cli, start_cli_run, wait_until

pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("docker_client")]

TASKS = '''
import os, socket, time
import flyte
from flyte.extras import ContainerTask

env = flyte.TaskEnvironment(name="net")


@env.task
def where(i: int) -> str:
    """This call's network namespace, whether it has an interface beside loopback, its process."""
    nics = sorted(n for n in os.listdir("/sys/class/net") if n != "lo")
    return f"{os.readlink('/proc/self/ns/net')}|{','.join(nics)}|{os.getpid()}|{socket.gethostname()}|{i}"


raw = ContainerTask(
    name="raw_ns",
    image="BASE_IMAGE",
    command=["sh", "-c", "readlink /proc/self/ns/net > /var/outputs/o0"],
    outputs={"o0": str},
)


@env.task
def chain(n: int) -> list[str]:
    return [where(i) for i in range(n)]


@env.task
def fan(n: int) -> list[str]:
    return list(flyte.map(where, range(n)))


@env.task
def chain_pausing() -> list[str]:
    """Three calls, with a pause before the last (the test stops the holder meanwhile)."""
    done = [where(0), where(1)]
    time.sleep(6)
    return [*done, where(2)]


@env.task
def naps(n: int) -> list[str]:
    """Calls that take their time (the test kills the driver meanwhile)."""
    out = []
    for i in range(n):
        out.append(where(i))
        time.sleep(120 if i == 1 else 0)
    return out


@env.task
async def with_raw() -> list[str]:
    ours = await where.aio(0)
    return [ours.split("|")[0], (await raw()).strip()]
'''.replace("BASE_IMAGE", BASE_IMAGE)

#: The task module the conftest's ``project`` and ``tasks`` fixtures provide.
TASK_MODULE = ("net_tasks", TASKS)


class HolderWatch:
    """Follows the holders of one session's runs from this host (the engine is local): the network
    namespace each had while running, and how often one was seen running again after it stopped."""

    def __init__(self, client: docker.DockerClient, store_key: str) -> None:
        self.client = client
        self.labels = [f"{STORE_LABEL}={store_key}", f"{ROLE_LABEL}=network"]
        self.namespaces: set[str] = set()
        self.starts: dict[str, set[str]] = {}  # holder -> the StartedAt times it was seen with
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        while not self._stop.wait(0.02):
            for c in self.client.api.containers(filters={"label": self.labels}):
                with contextlib.suppress(docker.errors.NotFound, OSError, KeyError):
                    state = self.client.api.inspect_container(c["Id"])["State"]
                    self.namespaces.add(os.readlink(f"/proc/{state['Pid']}/ns/net"))
                    self.starts.setdefault(c["Id"], set()).add(state["StartedAt"])

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def rows_of(project: Path, task: Any, share: bool, **inputs: Any) -> tuple[str, list[list[str]], HolderWatch]:
    """Run ``task`` in a session of its own: its run, each ``where`` row it returned, and its holders."""
    session = docker_session(project, share_network=share, standby=False)
    watch = HolderWatch(docker.from_env(), session.store_key)
    try:
        run = session.run(task, **inputs)
        return run.name, [r.split("|") for r in run.outputs()[0]], watch
    finally:
        session.close()
        watch.stop()


def test_the_calls_of_a_run_share_one_namespace(project: Path, tasks: Any, docker_client: docker.DockerClient) -> None:
    run, rows, holders = rows_of(project, tasks.chain, share=True, n=3)
    assert [r[4] for r in rows] == ["0", "1", "2"]
    assert len(holders.starts) == 1 and {r[0] for r in rows} == holders.namespaces  # the holder's namespace
    assert [len(starts) for starts in holders.starts.values()] == [1]  # it stayed up from start to end
    assert len({r[2] for r in rows}) == 3 or len({r[3] for r in rows}) == 1  # still a process per call
    assert all(r[1] for r in rows)  # with the holder's interface: the network is there
    assert containers_of(docker_client, run) == []  # the holder went with the run


def test_a_fan_out_shares_it_too(project: Path, tasks: Any, docker_client: docker.DockerClient) -> None:
    run, rows, holders = rows_of(project, tasks.fan, share=True, n=4)
    assert len(holders.starts) == 1 and {r[0] for r in rows} == holders.namespaces
    assert [len(starts) for starts in holders.starts.values()] == [1]
    assert containers_of(docker_client, run) == []


def test_without_the_option_every_container_has_its_own(project: Path, tasks: Any,
                                                        docker_client: docker.DockerClient) -> None:
    run, rows, holders = rows_of(project, tasks.chain, share=False, n=3)
    assert holders.starts == {}
    assert len({r[3] for r in rows}) == 3  # a host name, and so a container, of its own each
    assert all(r[1] for r in rows)
    assert containers_of(docker_client, run) == []


def test_a_raw_container_task_joins_the_namespace(project: Path, tasks: Any,
                                                  docker_client: docker.DockerClient) -> None:
    session = docker_session(project, share_network=True)
    holders = HolderWatch(docker_client, session.store_key)
    try:
        run = session.run(tasks.with_raw)
        ours, raw = run.outputs()[0]
    finally:
        session.close()
        holders.stop()
    assert ours == raw and {ours} == holders.namespaces
    assert containers_of(docker_client, run.name) == []


def test_a_holder_stopped_mid_run_is_started_again(project: Path, tasks: Any,
                                                   docker_client: docker.DockerClient) -> None:
    # As an engine restart stops it: the holder is killed from outside during the pause after the
    # second call; the third call's container has it started again.
    session = docker_session(project, share_network=True, standby=False)
    mine = [f"{STORE_LABEL}={session.store_key}"]  # this test's runs only: others may share the engine
    holders = HolderWatch(docker_client, session.store_key)
    stopped: list[str] = []

    def stop_holder() -> None:
        seen = False
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            second = docker_client.api.containers(all=True, filters={"label": [*mine, f"{ACTION_LABEL}=a0.2"]})
            seen = seen or bool(second)
            if seen and all(c["State"] == "exited" for c in second):  # the second call ended
                for h in docker_client.api.containers(filters={"label": [*mine, f"{ROLE_LABEL}=network"]}):
                    docker_client.api.kill(h["Id"])
                    stopped.append(h["Id"])
                return
            time.sleep(0.05)

    killer = threading.Thread(target=stop_holder, daemon=True)
    killer.start()
    try:
        run = session.run(tasks.chain_pausing)
        rows = [r.split("|") for r in run.outputs()[0]]
    finally:
        session.close()
        killer.join(timeout=5)
        holders.stop()
    assert stopped, "the holder was not found running after the second call"
    assert [r[4] for r in rows] == ["0", "1", "2"]
    assert [len(starts) for starts in holders.starts.values()] == [2]  # one holder, started twice
    assert {r[0] for r in rows} <= holders.namespaces and rows[2][1]  # the third has a network again
    assert containers_of(docker_client, run.name) == []


def test_a_driver_killed_leaves_its_holder_to_stop_by_itself(project: Path, docker_client: docker.DockerClient) -> None:
    # Like a task container, the holder notices its controller is gone (its line to it closes) and
    # stops without anyone removing it; the next command of the run store removes it.
    (project / ".flyte").mkdir()
    (project / ".flyte" / "config.yaml").write_text("backends:\n  docker:\n    share_network: true\n")
    run = f"net-kill-{uuid.uuid4().hex[:8]}"  # this test's run only: other suites may run on the engine
    proc = start_cli_run(project, run, "naps", "--n", "3", file="net_tasks.py")

    def running(role: str | None = None) -> list[Any]:
        labels = [f"{RUN_LABEL}={run}", *([f"{ROLE_LABEL}={role}"] if role else [])]
        return docker_client.api.containers(filters={"label": labels})

    def two_ended() -> bool:
        shown = json.loads(cli(project, "runs", "show", run, "--json").stdout or "{}")
        return len([a for a in shown.get("actions", []) if a["phase"] == "succeeded"]) >= 2 and bool(running("network"))

    try:
        wait_until(two_ended, "two calls to end with the holder running")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        wait_until(lambda: not running(), "the run's containers, its holder included, to stop", timeout=120)
    finally:
        proc.kill()
    after = json.loads(cli(project, "runs", "show", run, "--json").stdout)
    assert after["run"]["phase"] == "interrupted"
    assert containers_of(docker_client, run) == []
