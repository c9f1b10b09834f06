"""Secrets: what a task declares (``flyte.Secret``) and where the values come from when a backend
needs them.

Built-in providers (``trylast``, so a plugin's provider — Vault, a cloud secret manager — wins):
the caller's environment (``FLYTE_SECRET_<GROUP>_<KEY>``, upper case, ``-`` as ``_``) and the local
secret store that ``flyte secrets set`` writes (a JSON file readable only by its owner). Values are
never written to the run store, logs or image layers.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flyte_core.config.home import flyte_home
from flyte_core.errors.core import ConfigError, FlyteUsageError
from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.security.masking import mask
from flyte_core.security.privatefiles import private_dir, write_private
from flyte_core.security.secretspec import ENV_VAR_NAME as ENV_VAR_NAME
from flyte_core.security.secretspec import Secret as Secret
from flyte_core.security.secretspec import SecretRequest as SecretRequest
from flyte_core.security.secretspec import to_secrets as to_secrets

if TYPE_CHECKING:
    from pathlib import Path

    from flyte_core.plugins.manager import PluginSet


def secret_id(secret: Secret) -> str:
    """``group/key`` or ``key``: how the local store and messages name a secret."""
    return f"{secret.group}/{secret.key}" if secret.group else secret.key


def env_name(secret: Secret) -> str:
    """The caller's environment variable the environment provider reads."""
    raw = f"{secret.group}_{secret.key}" if secret.group else secret.key
    return "FLYTE_SECRET_" + raw.replace("-", "_").replace("/", "_").upper()


class LocalSecretStore:
    """Secrets kept in ``$FLYTE_HOME/secrets.json`` with mode 0600 (the folder 0700)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or flyte_home() / "secrets.json"  # pathlib is imported here, not with the plugin

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"Secret store '{self.path}' is readable by others (mode {mode:o}); run `chmod 600 {self.path}`."
            )
        data = json.loads(self.path.read_text())
        return {str(k): str(v) for k, v in data.items()}

    def _save(self, data: dict[str, str]) -> None:
        private_dir(self.path.parent)
        write_private(self.path, json.dumps(data).encode())

    def get(self, name: str) -> str | None:
        """The value of secret ``name`` (``group/key`` or ``key``), or None."""
        return self._load().get(name)

    def set(self, name: str, value: str) -> None:
        """Store (or replace) a secret."""
        data = self._load()
        data[name] = value
        self._save(data)

    def delete(self, name: str) -> bool:
        """Remove a secret; False if it was not there."""
        data = self._load()
        if name not in data:
            return False
        del data[name]
        self._save(data)
        return True

    def names(self) -> list[str]:
        """The names of the stored secrets (never their values)."""
        return sorted(self._load())


def secret_value(plugins: PluginSet | None, secret: Secret) -> str | None:
    """The value the session's secret providers (``plugins``: ``session.plugins``, ``BackendRun.plugins``)
    give ``secret`` (``flyte_secret_value``: a plugin first, then the environment, then the local store), or None.
    Every value handed out is masked in what runs record from then on (:mod:`flyte_core.security.masking`)."""
    hook = plugins.hook if plugins is not None else None
    value = hook.flyte_secret_value(secret=secret) if hook is not None else None
    if value is None:
        return None
    mask.add(str(value))
    return str(value)


def how_to_set(secret: Secret) -> str:
    """How a user gives ``secret`` a value, for error messages."""
    return f"set {env_name(secret)} or run `flyte secrets set {secret_id(secret)}`"


def secret_env(plugins: PluginSet | None, task_name: str, secrets: Iterable[Secret]) -> dict[str, str]:
    """The environment variables that deliver ``secrets`` to a worker process of ``task_name``.

    For backends without a container to mount files into: a secret declared as a file
    (``mount=``) is refused with what to do instead, and a secret no provider has names the task.
    """
    env: dict[str, str] = {}
    for secret in secrets:
        if secret.mount is not None:
            raise FlyteUsageError(
                f"Task '{task_name}' wants secret '{secret_id(secret)}' as a file under {secret.mount}, which only "
                "container backends (docker, kubernetes) can mount; declare it as an environment variable "
                "(flyte.Secret(key=..., as_env_var=...)) or run on a container backend."
            )
        value = secret_value(plugins, secret)
        if value is None:
            raise FlyteUsageError(
                f"Task '{task_name}' needs secret '{secret_id(secret)}', which no secret provider has; "
                f"{how_to_set(secret)}."
            )
        env[secret.as_env_var or env_name(secret)] = value
    return env


@hookimpl(trylast=True)
def flyte_secret_value(secret: Secret) -> str | None:
    """The caller's environment first, then the local secret store."""
    value = os.environ.get(env_name(secret))
    if value is not None:
        return value
    return LocalSecretStore().get(secret_id(secret))
