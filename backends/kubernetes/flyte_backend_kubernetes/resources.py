"""``flyte.Resources`` as a container's Kubernetes ``resources`` (requests and limits).

A single value sets request and limit alike (as Flyte does); a ``(request, limit)`` tuple sets
them apart. GPUs are an extended resource (``nvidia.com/gpu`` unless configured otherwise),
which Kubernetes requires to be requested and limited equally. ``disk`` is ephemeral storage;
``shm`` becomes a memory-backed ``emptyDir`` at ``/dev/shm`` (see :func:`shm_volume`).
"""

from __future__ import annotations

import re
from typing import Any

from flyte_core.extend import AppleSiliconNotAvailableError, FlyteUsageError, Resources, to_device

# What Kubernetes accepts as a quantity: 500m, 0.5, 2, 64Mi, 1Gi, 1G, 1e3 ...
_QUANTITY = re.compile(r"^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkKMGTPE]i?)?$")


def quantity(value: Any, what: str, task: str) -> str:
    """``value`` as a Kubernetes quantity string; a FlyteUsageError naming ``what`` otherwise."""
    text = str(value).strip()
    if text.endswith(("B", "b")) and text[:-1][-1:] in "kKMGTPEi":  # 1GB, 1GiB: a common slip
        text = text[:-1]
    if not _QUANTITY.match(text):
        raise FlyteUsageError(f"Task '{task}': Resources {what}={value!r} is not a Kubernetes quantity "
                              "(like 500m, 2, 512Mi, 1Gi).")
    return text


def _pair(value: Any) -> tuple[Any, Any]:
    return (value[0], value[1]) if isinstance(value, tuple) else (value, value)


#: The extended resource of each accelerator class other than NVIDIA GPUs (whose name is configurable).
DEVICE_RESOURCES = {"TPU": "google.com/tpu", "NEURON": "aws.amazon.com/neuron", "AMD_GPU": "amd.com/gpu",
                    "HABANA_GAUDI": "habana.ai/gaudi"}


def gpu_count(gpu: Any) -> tuple[int, str | None]:
    """The number of devices and the device name (``"A100:2"`` is 2 of A100; ``1`` is one of any;
    ``flyte.GPU("A100", 2)`` as the string)."""
    device = to_device(gpu)
    if device is None:
        return 0, None
    return device.quantity, device.device


def device_resource(gpu: Any, task: str, gpu_resource: str) -> str:
    """The extended resource that requests ``gpu``: ``gpu_resource`` for GPUs, the vendor's name for others."""
    device = to_device(gpu)
    if device is not None and device.device_class == "APPLE_SILICON":
        raise AppleSiliconNotAvailableError(
            f"Task '{task}' asks for gpu='AppleSilicon', which no pod can use; run it on the 'local' or "
            "'local-process' backend on the Mac instead.")
    return DEVICE_RESOURCES.get(device.device_class, gpu_resource) if device is not None else gpu_resource


def container_resources(res: Resources | None, task: str, gpu_resource: str = "nvidia.com/gpu") -> dict[str, Any]:
    """The ``resources`` field of the primary container (camelCase, as the API takes it)."""
    if res is None:
        return {}
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for name, key in (("cpu", "cpu"), ("memory", "memory"), ("disk", "ephemeral-storage")):
        value = getattr(res, name)
        if value is None:
            continue
        req, lim = _pair(value)
        if req is not None:
            requests[key] = quantity(req, name, task)
        if lim is not None:
            limits[key] = quantity(lim, name, task)
    if res.gpu:
        count, _device = gpu_count(res.gpu)
        if count:
            resource = device_resource(res.gpu, task, gpu_resource)
            requests[resource] = limits[resource] = str(count)
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return out


def gpu_node_selector(res: Resources | None, label: str | None) -> dict[str, str]:
    """A node selector for the GPU device a task names, when ``gpu_node_label`` is configured."""
    if res is None or not res.gpu or label is None:
        return {}
    _count, device = gpu_count(res.gpu)
    return {label: device} if device else {}


def shm_volume(res: Resources | None, task: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A memory-backed volume and its mount at ``/dev/shm`` for ``Resources(shm=...)``."""
    if res is None or not res.shm:
        return None
    empty: dict[str, Any] = {"medium": "Memory"}
    if res.shm != "auto":
        empty["sizeLimit"] = quantity(res.shm, "shm", task)
    return {"name": "flyte-shm", "emptyDir": empty}, {"name": "flyte-shm", "mountPath": "/dev/shm"}


def describe_memory(res: Resources | None) -> str:
    """The memory limit as the user wrote it, for messages."""
    if res is None or res.memory is None:
        return "the pod's memory (no limit was set)"
    return str(_pair(res.memory)[1])
