"""The one rule for user-given names that become paths, labels or object names.

A run name ends up as a folder of the data store, a label value on containers and pods, and part of
Kubernetes object names. Checking it once, when the name enters (``flyte.with_runcontext(name=...)``,
``flyte run --name``, ``--recover``, ``flyte runs ...``), keeps every later use safe; paths built from
it are still checked to stay inside their root (:func:`inside`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from flyte_core.errors.core import FlyteUsageError

#: Kubernetes' label-value rule: 1-63 characters of letters, digits, '-', '_' and '.', starting and
#: ending with a letter or digit. No '/', no '..' on its own, no whitespace or control characters.
NAME_RULE = (
    "1 to 63 characters: letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
)
_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?")


def check_name(name: object, what: str = "run name") -> str:
    """Return ``name`` if it follows :data:`NAME_RULE`; else raise :class:`FlyteUsageError` naming it."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise FlyteUsageError(f"Invalid {what} {name!r}: a {what} must be {NAME_RULE}.")
    return name


def optional_name(what: str = "run name") -> Callable[[Any, Any, str | None], None]:
    """An attrs validator: the field is None or follows :data:`NAME_RULE` (see :func:`check_name`)."""

    def validate(_: Any, __: Any, value: str | None) -> None:
        if value is not None:
            check_name(value, what)

    return validate


def inside(root: str | os.PathLike[str], *parts: str) -> str:
    """``root`` joined with ``parts``, resolved; :class:`FlyteUsageError` if it leaves ``root``."""
    base = os.path.realpath(root)
    path = os.path.realpath(os.path.join(base, *parts))
    if path != base and not path.startswith(base + os.sep):
        raise FlyteUsageError(f"Path {os.path.join(*parts)!r} leaves its root {base!r}; refusing to use it.")
    return path
