"""Devices as Kubernetes extended resources and node selectors."""

from __future__ import annotations

import pytest
from flyte_backend_kubernetes.resources import container_resources, gpu_node_selector

import flyte


def test_each_device_class_requests_its_vendor_resource() -> None:
    def limits(gpu: object) -> dict[str, str]:
        return container_resources(flyte.Resources(gpu=gpu), "t")["limits"]  # type: ignore[no-any-return]

    assert limits(flyte.GPU("A100", 2)) == {"nvidia.com/gpu": "2"}
    assert limits(flyte.TPU("V5E")) == {"google.com/tpu": "1"}
    assert limits(flyte.Neuron("Inf2")) == {"aws.amazon.com/neuron": "1"}
    assert limits(flyte.AMD_GPU("MI300X")) == {"amd.com/gpu": "1"}
    assert limits(flyte.HABANA_GAUDI("Gaudi1")) == {"habana.ai/gaudi": "1"}


def test_the_device_model_selects_nodes_when_a_label_is_configured() -> None:
    res = flyte.Resources(gpu=flyte.GPU("L4", 1))
    assert gpu_node_selector(res, "accelerator") == {"accelerator": "L4"}
    assert gpu_node_selector(flyte.Resources(gpu=1), "accelerator") == {}


def test_apple_silicon_cannot_reach_a_pod() -> None:
    with pytest.raises(flyte.errors.AppleSiliconNotAvailableError, match="Task 'mytask'"):
        container_resources(flyte.Resources(gpu="AppleSilicon"), "mytask")
