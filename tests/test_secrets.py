"""Secret providers: the environment, the local store (0600), plugins first, and the CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import flyte
from flyte_core.errors.core import ConfigError
from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.plugins.manager import make_plugin_set
from flyte_core.security.secrets import LocalSecretStore, env_name


def test_environment_then_local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = make_plugin_set(autoload=False).hook
    s = flyte.Secret(key="api-key", group="svc")
    assert env_name(s) == "FLYTE_SECRET_SVC_API_KEY"
    assert hook.flyte_secret_value(secret=s) is None
    LocalSecretStore().set("svc/api-key", "from-store")
    assert hook.flyte_secret_value(secret=s) == "from-store"
    monkeypatch.setenv("FLYTE_SECRET_SVC_API_KEY", "from-env")
    assert hook.flyte_secret_value(secret=s) == "from-env"


def test_store_is_private_and_refuses_loose_permissions(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "s" / "secrets.json")
    store.set("a", "1")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.names() == ["a"] and store.get("a") == "1"
    os.chmod(store.path, 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        store.get("a")


def test_a_plugin_provider_is_asked_first() -> None:
    class Vault:
        @hookimpl
        def flyte_secret_value(self, secret: Any) -> str | None:
            return "from-vault" if secret.key == "db" else None

    hook = make_plugin_set(autoload=False, plugins=[Vault()]).hook
    assert hook.flyte_secret_value(secret=flyte.Secret(key="db")) == "from-vault"


def test_secrets_cli_never_prints_values(tmp_path: Path) -> None:
    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flyte_core.cli", "secrets", *args], input=stdin,
                              capture_output=True, text=True, cwd=tmp_path, timeout=60)

    assert cli("set", "token", stdin="hunter2\n").returncode == 0
    listed = cli("list")
    assert listed.stdout == "token\n" and "hunter2" not in listed.stdout
    assert LocalSecretStore().get("token") == "hunter2"
    assert cli("delete", "token").returncode == 0
    assert cli("delete", "token").returncode == 2
