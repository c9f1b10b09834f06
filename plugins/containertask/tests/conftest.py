"""Fixtures: an isolated FLYTE_HOME per test, and a real Docker engine with the offline base image.

Without a reachable engine the engine-bound tests are skipped, except under CI (env ``CI`` set), where
a missing engine is a failure: CI must not pass by testing nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

#: The offline base image (Debian bookworm with python3), as in the docker backend's tests.
BASE_IMAGE = os.environ.get("FLYTE_DOCKER_TEST_BASE_IMAGE", "flyte-ci/python:3.11-bookworm")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test works in its own folder (FLYTE_HOME is flyte_core.testing's ``flyte_home`` fixture)."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of a reachable engine that has the base image."""
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(BASE_IMAGE)
    except Exception as e:
        reason = f"no Docker engine with {BASE_IMAGE} ({e})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)")
        pytest.skip(reason)
    yield client
    client.close()
