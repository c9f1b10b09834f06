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
from typing import TYPE_CHECKING, Any

import attrs

from flyte_core.config.home import CONFIG_ENV, HOME_ENV, flyte_home, home_dir
from flyte_core.errors.core import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["CONFIG_ENV", "HOME_ENV", "Config", "find_config", "flyte_home", "load_config"]


@attrs.frozen
class Config:
    """Settings read from a config file (or the defaults); ``source`` is the file, if any."""

    backend: str = "local"
    data_url: str = attrs.field(factory=lambda: os.path.join(home_dir(), "data"))
    runs_path: str = attrs.field(factory=lambda: os.path.join(home_dir(), "runs.db"))
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
    # Searched with os.path: most processes have no config file, and need no pathlib.
    if path is not None:
        p = os.path.expanduser(path)
        if not os.path.isfile(p):
            raise ConfigError(f"Config file '{p}' does not exist; pass an existing file or none.")
        return _path(p)
    env = os.environ.get(CONFIG_ENV)
    if env:
        p = os.path.expanduser(env)
        if not os.path.isfile(p):
            raise ConfigError(f"{CONFIG_ENV} points to '{p}', which does not exist; fix or unset it.")
        return _path(p)
    for folder in (os.getcwd(), os.path.expanduser("~")):
        candidate = os.path.join(folder, ".flyte", "config.yaml")
        if os.path.isfile(candidate):
            return _path(candidate)
    return None


def _path(p: str) -> Path:
    from pathlib import Path

    return Path(p)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file found by :func:`find_config`, or return the defaults.

    Every key and type is checked here (:class:`~flyte_core.config.file_schema.ConfigFile`); a wrong one
    is a one-line :class:`ConfigError` naming the key and the file.
    """
    p = find_config(path)
    if p is None:
        return Config()
    # YAML and cattrs only when there is a file to read (most processes have none).
    from pathlib import Path

    import yaml

    from flyte_core.config import file_schema, schema

    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        raise ConfigError(f"Config file '{p}' is not valid YAML: {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"Config file '{p}' cannot be read: {e}") from None
    parsed = schema.structure(file_schema.ConfigFile, data, source=p)
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
