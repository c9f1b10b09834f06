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
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from flyte_core.config.schema import Invalid, Scalar, structure
from flyte_core.errors.core import ConfigError

CONFIG_ENV = "FLYTE_CONFIG"
HOME_ENV = "FLYTE_HOME"
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file found by :func:`find_config`, or return the defaults.

    Every key and type is checked here (:class:`ConfigFile`); a wrong one is a one-line
    :class:`ConfigError` naming the key and the file.
    """
    p = find_config(path)
    if p is None:
        return Config()
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"Config file '{p}' is not valid YAML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"Config file '{p}' cannot be read: {e}") from None
    parsed = structure(ConfigFile, data, source=p)
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
        backend=parsed.backend,
        data_url=resolve(parsed.storage.data, defaults.data_url),
        runs_path=resolve(parsed.storage.runs, defaults.runs_path),
        backends=parsed.backends,
        root_dir=resolve(parsed.root_dir, "") or None,
        images=parsed.images,
        # YAML reads `PORT: 8080` as a number; environment values are strings.
        env_vars={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in parsed.env_vars.items()},
        source=p,
    )
