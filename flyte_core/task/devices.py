"""Accelerators a task asks for: ``Resources(gpu=flyte.GPU("A100", 2))``, as Flyte 2 spells them.

A :class:`Device` is a plain spec. Container backends turn it into what their runtime understands
(a Docker device request, a Kubernetes extended resource and node selector); the local backends
record it. :func:`to_device` reads the other spellings of ``Resources.gpu`` (``2``, ``"A100:2"``,
``"AppleSilicon"``) into the same form, so backends handle one shape.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

DeviceClass = Literal["GPU", "TPU", "NEURON", "AMD_GPU", "HABANA_GAUDI", "APPLE_SILICON"]

#: Known device names per class, and the partitions (MIG profiles, TPU slices) each one offers.
_GPUS = ("A2", "A10", "A10G", "A100", "A100_80G", "B200", "H100", "H200", "L4", "L40s", "T4", "V100",
         "RTX_PRO_4500", "RTX_PRO_6000", "GB10", "T4 shared", "L4 shared", "A10G shared", "A10 shared", "L40S shared")
_GPU_PARTITIONS: dict[str, tuple[str, ...]] = {
    "A100": ("1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"),
    "A100_80G": ("1g.10gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
    "H100": ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"),
    "H200": ("1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"),
    "RTX_PRO_6000": ("1g.24gb", "2g.48gb", "4g.96gb"),
}
_TPU_SLICES_2D = ("1x1", "2x2", "2x4", "4x4", "4x8", "8x8", "8x16", "16x16")
_TPU_PARTITIONS: dict[str, tuple[str, ...]] = {
    "V5E": _TPU_SLICES_2D,
    "V6E": _TPU_SLICES_2D,
    "V5P": ("2x2x1", "2x2x2", "2x4x4", "4x4x4", "4x4x8", "4x8x8", "8x8x8", "8x8x16", "8x16x16", "16x16x16",
            "16x16x24"),
}
_NEURONS = ("Inf1", "Inf2", "Trn1", "Trn1n", "Trn2", "Trn2u")
_AMD_GPUS = ("MI100", "MI210", "MI250", "MI250X", "MI300A", "MI300X", "MI325X", "MI350X", "MI355X")
_GAUDIS = ("Gaudi1",)
APPLE_SILICON_DEVICE = "AppleSilicon"


@attrs.frozen
class Device:
    """``quantity`` devices of class ``device_class`` (GPU, TPU, ...), optionally of one model
    (``device``, e.g. "A100") and one partition of it (a MIG profile, a TPU slice)."""

    quantity: int
    device_class: DeviceClass
    device: str | None = None
    partition: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError(f"Device quantity must be at least 1, got {self.quantity}")
        if (self.device == APPLE_SILICON_DEVICE) != (self.device_class == "APPLE_SILICON"):
            raise ValueError('The Apple Silicon device is device="AppleSilicon" with device_class="APPLE_SILICON"')
        if self.device_class == "APPLE_SILICON" and self.quantity != 1:
            raise ValueError("A Mac has one Apple Silicon GPU; quantity must be 1")

    def __str__(self) -> str:
        """The ``"A100:2"`` spelling ``Resources.gpu`` also takes (the class when no model is named)."""
        return f"{self.device or self.device_class}:{self.quantity}"


def _one_of(kind: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"Invalid {kind} {value!r}; expected one of: {', '.join(allowed)}")


def GPU(device: str, quantity: int, partition: str | None = None) -> Device:
    """``quantity`` NVIDIA GPUs of model ``device`` (``"A100"``, ``"T4 shared"`` for a time-sliced share),
    optionally one MIG ``partition`` (``"1g.5gb"``)."""
    device = {"A100 80G": "A100_80G", "RTX PRO 6000": "RTX_PRO_6000"}.get(device, device)  # older spellings
    _one_of("GPU type", device, _GPUS)
    if not 1 <= quantity <= 8:
        raise ValueError(f"GPU quantity must be between 1 and 8, got {quantity}")
    if partition is not None:
        if device.endswith(" shared"):
            raise ValueError(f"A shared GPU takes no partition, got {partition!r} for {device}")
        _one_of(f"partition for {device}", partition, _GPU_PARTITIONS.get(device, ()))
    return Device(quantity=quantity, device_class="GPU", device=device, partition=partition)


def TPU(device: str, partition: str | None = None) -> Device:
    """A Google Cloud TPU of type ``device`` (``"V5E"``, ``"V5P"``, ``"V6E"``), optionally one slice (``"2x2"``)."""
    _one_of("TPU type", device, tuple(_TPU_PARTITIONS))
    if partition is not None:
        _one_of(f"partition for {device}", partition, _TPU_PARTITIONS[device])
    return Device(quantity=1, device_class="TPU", device=device, partition=partition)


def Neuron(device: str) -> Device:
    """An AWS Inferentia/Trainium device (``"Inf2"``, ``"Trn1"``, ...)."""
    _one_of("Neuron type", device, _NEURONS)
    return Device(quantity=1, device_class="NEURON", device=device)


def AMD_GPU(device: str) -> Device:
    """An AMD Instinct GPU (``"MI300X"``, ...)."""
    _one_of("AMD GPU type", device, _AMD_GPUS)
    return Device(quantity=1, device_class="AMD_GPU", device=device)


def HABANA_GAUDI(device: str) -> Device:
    """An Intel Habana Gaudi accelerator (``"Gaudi1"``)."""
    _one_of("Habana Gaudi type", device, _GAUDIS)
    return Device(quantity=1, device_class="HABANA_GAUDI", device=device)


def APPLE_SILICON() -> Device:
    """The Metal GPU of an Apple Silicon Mac (the same as ``gpu="AppleSilicon"``)."""
    return Device(quantity=1, device_class="APPLE_SILICON", device=APPLE_SILICON_DEVICE)


def to_device(gpu: Any) -> Device | None:
    """``Resources.gpu`` in any accepted spelling as a Device: ``None``/``0`` is none, ``2`` is two GPUs of
    any model, ``"A100:2"`` two A100s, ``"AppleSilicon"`` the Mac's GPU."""
    if gpu is None or gpu == 0:
        return None
    if isinstance(gpu, Device):
        return gpu
    if isinstance(gpu, int) and not isinstance(gpu, bool):
        return Device(quantity=gpu, device_class="GPU")
    text = str(gpu)
    name, _, count = text.rpartition(":") if ":" in text else (text, "", "1")
    if name == APPLE_SILICON_DEVICE:
        return APPLE_SILICON()
    for cls, names in (("NEURON", _NEURONS), ("AMD_GPU", _AMD_GPUS), ("HABANA_GAUDI", _GAUDIS),
                       ("TPU", tuple(_TPU_PARTITIONS))):
        if name in names:
            return Device(quantity=int(count), device_class=cls, device=name)  # type: ignore[arg-type]
    return Device(quantity=int(count), device_class="GPU", device=name)


__all__ = ["AMD_GPU", "APPLE_SILICON", "GPU", "HABANA_GAUDI", "TPU", "Device", "DeviceClass", "Neuron", "to_device"]
