"""The settings users attach to environments and tasks, as Flyte 2 spells them.

These are plain specs: the core stores them and hands them to the backend, which decides what it
can honour (and reports what it cannot, once per run).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal, TypeAlias

import attrs

CacheBehavior = Literal["auto", "override", "disable"]
_CACHE_ALIASES = {
    "auto": "auto", "enable": "auto", "enabled": "auto", "on": "auto", "true": "auto", "yes": "auto",
    "override": "override",
    "disable": "disable", "disabled": "disable", "off": "disable", "false": "disable", "no": "disable",
    "none": "disable",
}


def _seconds(value: timedelta | int | float | None, what: str) -> timedelta | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, timedelta | int | float):
        raise TypeError(f"{what} must be a timedelta or a number of seconds, got {value!r}")
    td = value if isinstance(value, timedelta) else timedelta(seconds=value)
    if td < timedelta(0):
        raise ValueError(f"{what} must not be negative, got {value!r}")
    return td if td > timedelta(0) else None


@attrs.frozen
class Resources:
    """CPU, memory, GPU, disk and shared memory for a task; tuples are (request, limit)."""

    cpu: int | float | str | tuple[int | float | str, int | float | str] | None = None
    memory: str | tuple[str, str] | None = None
    gpu: int | str | Any | None = None
    disk: str | None = None
    shm: str | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("cpu", "memory"):
            v = getattr(self, name)
            if isinstance(v, tuple) and len(v) != 2:
                raise ValueError(f"Resources.{name} as a tuple must be (request, limit), got {v!r}")
        if isinstance(self.gpu, int) and self.gpu < 0:
            raise ValueError(f"Resources.gpu must be >= 0, got {self.gpu}")
        if isinstance(self.gpu, str) and not re.fullmatch(r"[A-Za-z0-9_ .-]+:\d+|AppleSilicon", self.gpu):
            raise ValueError(f"Resources.gpu must look like 'A100:1' or be a count, got {self.gpu!r}")


@attrs.frozen
class Cache:
    """Caching of a task's outputs by its inputs and version (``behavior``: auto, override, disable)."""

    behavior: str
    version_override: str | None = None
    serialize: bool = False
    ignored_inputs: tuple[str, ...] | str = ()
    salt: str = ""
    #: Cache policies computing the version (:mod:`flyte_core.task.cachepolicy`); None uses the default.
    policies: Any = None
    max_age: timedelta | int | None = None

    def __attrs_post_init__(self) -> None:
        norm = _CACHE_ALIASES.get(str(self.behavior).lower())
        if norm is None:
            raise ValueError(f"Cache behavior must be 'auto', 'override' or 'disable', got {self.behavior!r}")
        object.__setattr__(self, "behavior", norm)
        if isinstance(self.ignored_inputs, str):
            object.__setattr__(self, "ignored_inputs", (self.ignored_inputs,))
        if self.policies is not None:  # rare: their module (hashlib, inspect) loads only for them
            from flyte_core.task.cachepolicy import to_policies

            object.__setattr__(self, "policies", to_policies(self.policies))

    def is_enabled(self) -> bool:
        """True unless the behavior is 'disable'."""
        return self.behavior != "disable"

    def get_ignored_inputs(self) -> tuple[str, ...]:
        """Input names left out of the cache key."""
        return tuple(self.ignored_inputs)


CacheRequest: TypeAlias = "str | Cache"


def to_cache(req: CacheRequest | None) -> Cache:
    """Normalise 'auto'/'override'/'disable' or a :class:`Cache` to a Cache."""
    if req is None:
        return Cache("disable")
    if isinstance(req, Cache):
        return req
    if isinstance(req, str):
        return Cache(req)
    raise TypeError(f"cache must be 'auto', 'override', 'disable' or flyte.Cache(...), got {req!r}")


@attrs.frozen
class Backoff:
    """Delay before the n-th retry: ``min(base * factor**n, cap)``."""

    base: timedelta
    factor: float = 1.0
    cap: timedelta | None = None

    def __attrs_post_init__(self) -> None:
        if self.factor < 1:
            raise ValueError(f"Backoff.factor must be >= 1, got {self.factor}")
        if self.factor > 1 and self.cap is None:
            raise ValueError("Backoff with factor > 1 needs a cap")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        d = self.base.total_seconds() * self.factor**retry
        return min(d, self.cap.total_seconds()) if self.cap is not None else d


@attrs.frozen
class RetryStrategy:
    """How many times a failed task is retried, and how long to wait between attempts."""

    count: int
    backoff: Backoff | timedelta | float | None = None

    def __attrs_post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise ValueError(f"RetryStrategy.count must be an int >= 0, got {self.count!r}")

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry ``retry`` (0-based); no backoff means retry at once."""
        b = self.backoff
        if b is None:
            return 0.0
        if isinstance(b, Backoff):
            return b.delay(retry)
        return b.total_seconds() if isinstance(b, timedelta) else float(b)


def to_retries(req: int | RetryStrategy | None) -> RetryStrategy:
    """Normalise an int or a RetryStrategy."""
    if req is None:
        return RetryStrategy(0)
    if isinstance(req, RetryStrategy):
        return req
    if isinstance(req, int) and not isinstance(req, bool):
        return RetryStrategy(req)
    raise ValueError(f"retries must be an int or flyte.RetryStrategy(...), got {req!r}")


@attrs.frozen
class Timeout:
    """Limits per attempt (``max_runtime``, ``max_queued_time``) and over all attempts (``deadline``)."""

    max_runtime: timedelta | int | float | None = attrs.field(default=None)
    max_queued_time: timedelta | int | float | None = None
    deadline: timedelta | int | float | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("max_runtime", "max_queued_time", "deadline"):
            object.__setattr__(self, name, _seconds(getattr(self, name), f"Timeout.{name}"))

    @property
    def runtime_seconds(self) -> float | None:
        """max_runtime in seconds, or None for unlimited."""
        return self.max_runtime.total_seconds() if isinstance(self.max_runtime, timedelta) else None

    @property
    def deadline_seconds(self) -> float | None:
        """deadline in seconds, or None for unlimited."""
        return self.deadline.total_seconds() if isinstance(self.deadline, timedelta) else None


TimeoutType: TypeAlias = "Timeout | int | float | timedelta"


def to_timeout(req: TimeoutType | None) -> Timeout | None:
    """Normalise a Timeout, seconds or timedelta (a bare value is max_runtime; 0 means none)."""
    if req is None or (not isinstance(req, bool) and isinstance(req, int | float) and req == 0):
        return None
    if isinstance(req, Timeout):
        return req if (req.max_runtime or req.deadline or req.max_queued_time) else None
    return Timeout(max_runtime=req)


@attrs.frozen
class ReusePolicy:
    """Keep warm workers per environment and send actions to them (honoured by container backends)."""

    replicas: int | tuple[int, int] = 2
    idle_ttl: int | timedelta = 30
    concurrency: int = 1
    scaledown_ttl: int | timedelta = 30
    scope: str = "global"

    def __attrs_post_init__(self) -> None:
        r = self.replicas if isinstance(self.replicas, tuple) else (self.replicas, self.replicas)
        if len(r) != 2 or r[0] < 0 or r[0] > r[1]:
            raise ValueError(f"ReusePolicy.replicas must be n or (min, max) with 0 <= min <= max, got {self.replicas}")
        object.__setattr__(self, "replicas", r)
        if self.concurrency < 1:
            raise ValueError(f"ReusePolicy.concurrency must be >= 1, got {self.concurrency}")
        for name in ("idle_ttl", "scaledown_ttl"):
            v = getattr(self, name)
            object.__setattr__(self, name, v if isinstance(v, timedelta) else timedelta(seconds=v))

    @property
    def min_replicas(self) -> int:
        """Smallest number of warm workers."""
        return self.replicas[0]  # type: ignore[index]

    @property
    def max_replicas(self) -> int:
        """Largest number of warm workers."""
        return self.replicas[1]  # type: ignore[index]


@attrs.frozen
class PodTemplate:
    """A Kubernetes pod spec to start from (honoured by the Kubernetes backend only)."""

    pod_spec: Any = None
    primary_container_name: str = "primary"
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


@attrs.frozen
class Documentation:
    """A task's description, shown by tools."""

    description: str | None = None
