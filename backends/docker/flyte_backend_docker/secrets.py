"""``flyte.Secret``s for task containers: as environment variables, or as files on a tmpfs.

Values come from the session's secret providers (``flyte_secret_value``: the environment, the
local store, or a plugin). File secrets are written under ``/dev/shm`` (memory, never disk) with
0600/0700 modes and bind-mounted read-only at ``/etc/flyte/secrets``; they are deleted when the
attempt ends. Nothing secret goes into labels, logs, the run store or an image. Environment
variables are visible to anyone allowed to inspect the container: prefer files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from flyte_core.extend import (
    ActionSpec,
    BackendRun,
    FlyteUsageError,
    env_name,
    how_to_set,
    secret_id,
    secret_value,
    to_secrets,
)

MOUNT = "/etc/flyte/secrets"


class SecretMounts:
    """Resolves and delivers the secrets of each attempt of one run."""

    def __init__(self, run: BackendRun, fallback_dir: Path) -> None:
        self._run = run
        self._base = Path("/dev/shm") if Path("/dev/shm").is_dir() else fallback_dir
        self._dirs: dict[str, str] = {}

    def prepare(self, spec: ActionSpec, owner: tuple[int, int] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
        """Environment variables and volumes that deliver ``spec``'s task's secrets; the files
        belong to ``owner`` (the container's user) when given, else to this process."""
        assert spec.task is not None
        env: dict[str, str] = {}
        files: dict[str, str] = {}
        for secret in to_secrets(spec.task.env.secrets):
            value = self._value(secret, spec)
            if secret.mount is not None:
                files[secret_id(secret)] = value
            else:
                env[secret.as_env_var or env_name(secret)] = value
        if not files:
            return env, {}
        folder = tempfile.mkdtemp(prefix=f"flyte-secrets-{spec.run_name}-{spec.action}-", dir=self._base)
        for name, value in files.items():
            path = Path(folder) / name
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(value)
        if owner is not None and owner != (os.geteuid(), os.getegid()):
            for path in [Path(folder), *Path(folder).rglob("*")]:
                os.chown(path, *owner)
        self._dirs[spec.action] = folder
        return env, {folder: {"bind": MOUNT, "mode": "ro"}}

    def release(self, action: str) -> None:
        """Delete the secret files of ``action``'s attempt."""
        folder = self._dirs.pop(action, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _value(self, secret: Any, spec: ActionSpec) -> str:
        value = secret_value(self._run.plugins, secret)
        if value is None:
            raise FlyteUsageError(
                f"Task '{spec.task_name}' needs secret '{secret_id(secret)}', which no secret provider has; "
                f"{how_to_set(secret)}."
            )
        return value
