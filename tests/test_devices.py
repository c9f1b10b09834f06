"""Device helpers (flyte.GPU, TPU, ...) and Resources(gpu=...) in every spelling."""

from __future__ import annotations

import pytest

import flyte
from flyte_core.task.devices import to_device


def test_gpu_with_partition_and_the_older_spelling() -> None:
    d = flyte.GPU("A100", 2, partition="1g.5gb")
    assert (d.quantity, d.device_class, d.device, d.partition) == (2, "GPU", "A100", "1g.5gb")
    assert str(d) == "A100:2"
    assert flyte.GPU("A100 80G", 1).device == "A100_80G"


@pytest.mark.parametrize("make, match", [
    (lambda: flyte.GPU("Z9", 1), "Invalid GPU type 'Z9'"),
    (lambda: flyte.GPU("T4", 9), "between 1 and 8"),
    (lambda: flyte.GPU("A100", 1, partition="9g.99gb"), "partition for A100"),
    (lambda: flyte.GPU("T4 shared", 1, partition="1g.5gb"), "shared GPU takes no partition"),
    (lambda: flyte.TPU("V5P", "1x1"), "partition for V5P"),
    (lambda: flyte.Neuron("Inf9"), "Neuron type"),
    (lambda: flyte.AMD_GPU("MI1"), "AMD GPU type"),
    (lambda: flyte.HABANA_GAUDI("Gaudi9"), "Habana Gaudi type"),
    (lambda: flyte.Device(quantity=0, device_class="GPU"), "at least 1"),
    (lambda: flyte.Device(quantity=2, device_class="APPLE_SILICON", device="AppleSilicon"), "quantity must be 1"),
])
def test_bad_devices_are_refused_with_the_reason(make: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()  # type: ignore[operator]


def test_other_device_classes() -> None:
    assert flyte.TPU("V5E", "2x2").device_class == "TPU"
    assert flyte.Neuron("Trn1").device_class == "NEURON"
    assert flyte.AMD_GPU("MI300X").device_class == "AMD_GPU"
    assert flyte.HABANA_GAUDI("Gaudi1").device_class == "HABANA_GAUDI"
    assert flyte.APPLE_SILICON().device == "AppleSilicon"


def test_resources_take_a_device_and_every_spelling_reads_the_same() -> None:
    res = flyte.Resources(gpu=flyte.GPU("L4", 2))
    assert to_device(res.gpu) == flyte.GPU("L4", 2)
    assert to_device("L4:2") == flyte.Device(quantity=2, device_class="GPU", device="L4")
    assert to_device(3) == flyte.Device(quantity=3, device_class="GPU")
    assert to_device("Trn1:4") == flyte.Device(quantity=4, device_class="NEURON", device="Trn1")
    assert to_device("AppleSilicon") == flyte.APPLE_SILICON()
    assert to_device(None) is None and to_device(0) is None


def test_a_task_with_a_device_runs_locally() -> None:
    env = flyte.TaskEnvironment(name="gpu_env", resources=flyte.Resources(gpu=flyte.GPU("T4", 1)))

    @env.task
    def f() -> int:
        return 1

    flyte.init()
    assert flyte.run(f).outputs()[0] == 1
