"""The config file's keys and types (structured strictly by :mod:`flyte_core.config.schema`); imported
only when a config file is read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from flyte_core.config.schema import Invalid, Scalar

_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_var_name(_: object, attribute: attrs.Attribute[Any], value: Mapping[str, str]) -> None:
    for key in value:
        if not _ENV_KEY.fullmatch(key):
            raise Invalid(attribute.name, f"{key!r} is not an environment variable name (letters, digits, '_')")


@attrs.frozen
class StorageSection:
    """``storage:`` in the config file."""

    data: str | None = None
    runs: str | None = None


@attrs.frozen
class ConfigFile:
    """The config file's schema: every key, its type and default; unknown keys are errors."""

    backend: str = "local"
    storage: StorageSection = StorageSection()
    backends: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    root_dir: str | None = None
    images: dict[str, str] = attrs.field(factory=dict)
    env_vars: dict[str, Scalar] = attrs.field(factory=dict, validator=_env_var_name)
