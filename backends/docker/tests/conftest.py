"""Fixtures for the docker backend's tests: a real engine, an offline base image, a shared cache.

Without a reachable engine the engine-bound tests are skipped, except under CI (env ``CI`` set),
where a missing engine is a failure: CI must not pass by testing nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from flyte_backend_docker.images import ImageBuilder

from flyte_core.extend import Config, Image, Session

#: The offline base image /work/shared/tools/docker-up.sh builds (Debian bookworm, python3 3.11).
BASE_IMAGE = os.environ.get("FLYTE_DOCKER_TEST_BASE_IMAGE", "flyte-ci/python:3.11-bookworm")


def docker_session(project: Path, **options: Any) -> Session:
    """A docker-backend session on the test base image whose data store, run store and code root live
    in ``project``; ``options`` add to or change the backend options."""
    return Session(config=Config(), backend="docker",
                   backend_options={"base_image": BASE_IMAGE, "echo": False, **options},
                   data_url=str(project / "data"), run_store=str(project / "runs.db"), root_dir=project)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of a reachable engine that has the test base image."""
    try:
        client = docker.from_env()
        client.ping()
    except Exception as e:
        _unavailable(f"no Docker engine reachable ({e}); start one with /work/shared/tools/docker-up.sh")
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        _unavailable(f"base image {BASE_IMAGE} is missing; build it with /work/shared/tools/docker-up.sh")
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    """The offline base image default test images are built on."""
    return BASE_IMAGE


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheelhouse cache for the whole session, so the wheelhouse is built once."""
    return tmp_path_factory.mktemp("docker-cache")


@pytest.fixture(scope="session")
def builder(docker_client: docker.DockerClient, cache_dir: Path) -> ImageBuilder:
    """A builder on the offline base image."""
    return ImageBuilder(docker_client, base_image=BASE_IMAGE, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def default_image(builder: ImageBuilder) -> str:
    """The default image's tag, built at most once per session and kept afterwards (later tests and
    later sessions reuse it: its tag only changes when this checkout does)."""
    return builder.ensure(Image.from_debian_base())


@pytest.fixture
def made_images(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Tags a test appends here are removed when it ends."""
    tags: list[str] = []
    yield tags
    for tag in tags:
        try:
            docker_client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass
