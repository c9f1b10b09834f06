"""``task.override(...)`` settings as JSON, so a task body in another process (a container, a pod)
can call an overridden task: the worker sends what was overridden, the host applies it again to
the task it finds by reference.

Only plain values and flyte's own settings classes travel (an allowlist: the host never builds
an object a worker names freely); a ``timedelta`` is sent as seconds.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs

from flyte_core.security.secretspec import Secret
from flyte_core.task.settings import Backoff, Cache, PodTemplate, Resources, RetryStrategy, ReusePolicy, Timeout

#: The settings classes an override may carry, by name.
_CLASSES: dict[str, type[Any]] = {c.__name__: c for c in (Backoff, Cache, PodTemplate, ReusePolicy, Resources,
                                                          RetryStrategy, Secret, Timeout)}


class OverrideNotPortable(ValueError):
    """An override value that cannot be sent to another process."""


def encode(changes: dict[str, Any]) -> dict[str, Any]:
    """``override()`` keyword arguments as JSON-ready data; raises :class:`OverrideNotPortable`."""
    return {key: _encode(value, key) for key, value in changes.items()}


def decode(raw: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments :func:`encode` gave; ValueError for anything it would not give."""
    return {str(key): _decode(value) for key, value in raw.items()}


def _encode(value: Any, key: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, timedelta):
        return {"$seconds": value.total_seconds()}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, key) for v in value]}
    if isinstance(value, list):
        return [_encode(v, key) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"$dict": {k: _encode(v, key) for k, v in value.items()}}
    if type(value).__name__ in _CLASSES and _CLASSES[type(value).__name__] is type(value):
        fields = {f.name: _encode(getattr(value, f.name), key) for f in attrs.fields(type(value)) if f.init}
        return {"$class": type(value).__name__, "fields": fields}
    raise OverrideNotPortable(f"override({key}=...) holds a {type(value).__name__}, which cannot be sent to the "
                              "controller's process; override it where the task is defined instead.")


def _decode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "$seconds" in value:
            return timedelta(seconds=float(value["$seconds"]))
        if "$tuple" in value:
            return tuple(_decode(v) for v in value["$tuple"])
        if "$dict" in value:
            return {str(k): _decode(v) for k, v in value["$dict"].items()}
        cls = _CLASSES.get(str(value.get("$class")))
        if cls is not None and isinstance(value.get("fields"), dict):
            return cls(**{str(k): _decode(v) for k, v in value["fields"].items()})
    raise ValueError(f"not an encoded override value: {value!r}")
