"""``flyte.Resources`` as Docker container limits."""

from __future__ import annotations

import re
from typing import Any

import docker.types

from flyte_core.extend import AppleSiliconNotAvailableError, FlyteUsageError, Resources, to_device

_UNITS = {
    "": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
    "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4,
}


def memory_bytes(text: str | int) -> int:
    """``512Mi``, ``1Gi``, ``1G``, ``100M`` or a number of bytes, as bytes."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgtKMGT]i?)?[bB]?\s*", text)
    if not m:
        raise ValueError(f"memory {text!r} is not a size like 512Mi, 1Gi or 2G")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


def cpus(value: int | float | str) -> float:
    """``2``, ``0.5`` or Kubernetes-style ``500m`` as a number of CPUs."""
    if isinstance(value, str):
        value = value.strip()
        return int(value[:-1]) / 1000 if value.endswith("m") else float(value)
    return float(value)


def _limit(value: Any) -> Any:
    # (request, limit) tuples: a container has only limits, so the limit applies.
    return value[1] if isinstance(value, tuple) else value


def container_limits(res: Resources | None, task: str = "") -> dict[str, Any]:
    """Keyword arguments for ``containers.create`` that enforce ``res``.

    GPUs become an NVIDIA device request of the asked-for count (Docker picks the devices; the
    model and partition are not matched). An Apple Silicon GPU cannot reach a container.
    """
    if res is None:
        return {}
    out: dict[str, Any] = {}
    if res.cpu is not None:
        out["nano_cpus"] = int(cpus(_limit(res.cpu)) * 1e9)
    if res.memory is not None:
        mem = memory_bytes(_limit(res.memory))
        out["mem_limit"] = mem
        out["memswap_limit"] = mem  # no swap: exceeding the limit is an OOM kill, not a crawl
    device = to_device(res.gpu)
    if device is not None and device.device_class == "APPLE_SILICON":
        raise AppleSiliconNotAvailableError(
            f"Task '{task}' asks for gpu='AppleSilicon', which no container can use; run it on the 'local' or "
            "'local-process' backend on the Mac instead.")
    if device is not None and device.device_class != "GPU":
        raise FlyteUsageError(
            f"Task '{task}' asks for {device} ({device.device_class}), which the docker backend cannot give a "
            "container (it requests NVIDIA GPUs only); run it on the kubernetes backend.")
    if device is not None:
        out["device_requests"] = [docker.types.DeviceRequest(count=device.quantity, capabilities=[["gpu"]])]
    if res.shm and res.shm != "auto":
        out["shm_size"] = memory_bytes(res.shm)
    return out


def describe_memory(res: Resources | None) -> str:
    """The memory limit as the user wrote it, for messages."""
    if res is None or res.memory is None:
        return "the container's memory"
    return str(_limit(res.memory))
