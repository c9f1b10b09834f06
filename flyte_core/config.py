"""Configuration: a YAML file choosing the backend, the data store and the run store.

Looked for, in order: an explicit path, ``$FLYTE_CONFIG``, ``./.flyte/config.yaml``,
``~/.flyte/config.yaml``. With none, local defaults apply: the ``local`` backend and everything
under ``$FLYTE_HOME`` (default ``~/.flyte``).

Example::

    backend: local            # any registered backend name
    storage:
      data: ~/.flyte/data     # a folder or any fsspec URL (s3://bucket/prefix, ...)
      runs: ~/.flyte/runs.db  # the SQLite run store
    backends:                 # options per backend, owned by that backend's package
      local:
        max_workers: 8
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from flyte_core.errors import ConfigError

CONFIG_ENV = "FLYTE_CONFIG"
HOME_ENV = "FLYTE_HOME"
_KNOWN_KEYS = {"backend", "storage", "backends", "root_dir", "images", "env_vars"}


def flyte_home() -> Path:
    """Where local state lives: ``$FLYTE_HOME`` or ``~/.flyte``."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".flyte").expanduser()


@attrs.frozen
class Config:
    """Settings read from a config file (or the defaults); ``source`` is the file, if any."""

    backend: str = "local"
    data_url: str = attrs.field(factory=lambda: str(flyte_home() / "data"))
    runs_path: str = attrs.field(factory=lambda: str(flyte_home() / "runs.db"))
    backends: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    root_dir: str | None = None
    images: Mapping[str, str] = attrs.field(factory=dict)
    env_vars: Mapping[str, str] = attrs.field(factory=dict)
    source: Path | None = None

    def backend_options(self, name: str) -> Mapping[str, Any]:
        """The options configured for backend ``name`` (empty when none)."""
        return self.backends.get(name, {})


def find_config(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to use, by the documented search order; an explicit path must exist."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ConfigError(f"Config file '{p}' does not exist; pass an existing file or none.")
        return p
    env = os.environ.get(CONFIG_ENV)
    if env:
        p = Path(env).expanduser()
        if not p.is_file():
            raise ConfigError(f"{CONFIG_ENV} points to '{p}', which does not exist; fix or unset it.")
        return p
    for candidate in (Path.cwd() / ".flyte" / "config.yaml", Path.home() / ".flyte" / "config.yaml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file found by :func:`find_config`, or return the defaults."""
    p = find_config(path)
    if p is None:
        return Config()
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"Config file '{p}' is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"Config file '{p}' must hold a mapping (key: value lines) at the top level.")
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"Config file '{p}' has unknown key(s) {', '.join(sorted(unknown))}; "
            f"known keys are {', '.join(sorted(_KNOWN_KEYS))}."
        )
    storage = data.get("storage") or {}
    if not isinstance(storage, dict):
        raise ConfigError(f"Config file '{p}': 'storage' must be a mapping with 'data' and/or 'runs'.")
    backends = data.get("backends") or {}
    if not isinstance(backends, dict) or not all(isinstance(v, dict) for v in backends.values()):
        raise ConfigError(f"Config file '{p}': 'backends' must map backend names to option mappings.")
    base = p.parent

    def resolve(value: str | None, default: str) -> str:
        if not value:
            return default
        if "://" in value:
            return value
        q = Path(value).expanduser()
        return str(q if q.is_absolute() else (base / q).resolve())

    defaults = Config()
    return Config(
        backend=str(data.get("backend") or "local"),
        data_url=resolve(storage.get("data"), defaults.data_url),
        runs_path=resolve(storage.get("runs"), defaults.runs_path),
        backends=backends,
        root_dir=resolve(data.get("root_dir"), "") or None,
        images=data.get("images") or {},
        env_vars={str(k): str(v) for k, v in (data.get("env_vars") or {}).items()},
        source=p,
    )
