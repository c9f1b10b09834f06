"""Devices as Docker device requests (no engine needed: the request is what is checked)."""

from __future__ import annotations

import pytest
from flyte_backend_docker.resources import container_limits

import flyte


def test_a_gpu_device_becomes_an_nvidia_device_request_of_its_quantity() -> None:
    req = container_limits(flyte.Resources(gpu=flyte.GPU("A100", 2)), "t")["device_requests"][0]
    assert req["Count"] == 2 and req["Capabilities"] == [["gpu"]]
    assert container_limits(flyte.Resources(gpu="T4:3"), "t")["device_requests"][0]["Count"] == 3


def test_apple_silicon_cannot_reach_a_container() -> None:
    with pytest.raises(flyte.errors.AppleSiliconNotAvailableError, match=r"Task 'mytask'.*local"):
        container_limits(flyte.Resources(gpu=flyte.APPLE_SILICON()), "mytask")


def test_other_accelerators_are_refused_with_the_backend_that_can() -> None:
    from flyte_core.extend import FlyteUsageError

    with pytest.raises(FlyteUsageError, match=r"Task 'tpu_task'.*TPU.*kubernetes"):
        container_limits(flyte.Resources(gpu=flyte.TPU("V5E")), "tpu_task")
