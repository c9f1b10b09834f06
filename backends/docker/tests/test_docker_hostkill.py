"""Aborting containers from this host (hostkill.py) on a real engine: a container's main process is
held only when it is that container's, and killing it stops the container without the engine's kill."""

from __future__ import annotations

import os
from collections.abc import Iterator

import docker
import pytest
from conftest import BASE_IMAGE
from flyte_backend_docker.hostkill import HostKiller, engine_is_local
from flyte_backend_docker.labels import RUN_LABEL


@pytest.fixture
def sleeper(docker_client: docker.DockerClient) -> Iterator[str]:
    """A running bare container (labelled with a run of this test's own), removed afterwards."""
    cid = docker_client.api.create_container(BASE_IMAGE, command=["sleep", "600"],
                                             labels={RUN_LABEL: f"hostkill-{os.getpid()}"})["Id"]
    try:
        docker_client.api.start(cid)
        yield cid
    finally:
        docker_client.api.remove_container(cid, force=True)


def test_engine_is_local_only_for_a_socket_on_this_machine() -> None:
    assert engine_is_local(None) and engine_is_local("") and engine_is_local("unix:///var/run/docker.sock")
    assert not engine_is_local("tcp://10.0.0.5:2376") and not engine_is_local("ssh://user@box")


def test_a_held_container_is_killed_without_the_engine(docker_client: docker.DockerClient, sleeper: str) -> None:
    if not engine_is_local(os.environ.get("DOCKER_HOST")):
        pytest.skip("the engine does not run on this machine")
    killer = HostKiller(True)
    if not killer.enabled:
        pytest.skip("no pidfd support here")
    pid = int(docker_client.api.inspect_container(sleeper)["State"]["Pid"])
    # Another process than the container's (this one) is never held under its name.
    assert not killer.track(sleeper, os.getpid())
    assert not killer.kill(sleeper)
    if not killer.track(sleeper, pid):
        pytest.skip("this process may not signal the container's processes (not root, another user)")
    assert killer.kill(sleeper)
    assert docker_client.api.wait(sleeper, timeout=120)["StatusCode"] == 137  # SIGKILL
    assert killer.kill(sleeper)  # an ended one: nothing to do, still no engine call needed
    killer.forget(sleeper)
    assert not killer.kill(sleeper)
    killer.close()


def test_a_disabled_killer_holds_nothing(docker_client: docker.DockerClient, sleeper: str) -> None:
    killer = HostKiller(False)
    pid = int(docker_client.api.inspect_container(sleeper)["State"]["Pid"])
    assert not killer.track(sleeper, pid) and not killer.kill(sleeper)
    assert docker_client.api.inspect_container(sleeper)["State"]["Running"]
