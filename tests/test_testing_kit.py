"""flyte_core.testing's kit for plugin authors: the temporary project and the hook recorder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flyte_core.config.files import load_config
from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.plugins.manager import PluginSet
from flyte_core.security.secrets import Secret
from flyte_core.testing import HookRecorder, write_project


def test_flyte_project_is_the_current_project(flyte_project: Path) -> None:
    """The fixture's folder is the current one and its config is what a session reads."""
    assert Path.cwd() == flyte_project
    assert os.environ["FLYTE_CONFIG"] == str(flyte_project / ".flyte" / "config.yaml")
    config = load_config(None)
    assert config.backend == "local"
    assert Path(config.runs_path).parent == flyte_project / ".flyte"


def test_write_project_merges_settings_and_files(tmp_path: Path) -> None:
    path = write_project(tmp_path, {"pkg/tasks.py": "X = 1\n"}, {"backend": "local-process"})
    assert (tmp_path / "pkg" / "tasks.py").read_text() == "X = 1\n"
    config = load_config(path)
    assert config.backend == "local-process" and config.data_url == str(tmp_path / ".flyte" / "data")


class Vault:
    """A secret provider that fails for one key."""

    @hookimpl
    def flyte_secret_value(self, secret: Secret) -> str | None:
        if secret.key == "broken":
            raise RuntimeError("vault sealed")
        return "s3cret" if secret.key == "known" else None


def test_the_recorder_keeps_results_and_errors(flyte_plugins: PluginSet, hook_recorder: HookRecorder) -> None:
    flyte_plugins.register(Vault())
    assert flyte_plugins.hook.flyte_secret_value(secret=Secret(key="known")) == "s3cret"
    with pytest.raises(RuntimeError, match="vault sealed"):
        flyte_plugins.hook.flyte_secret_value(secret=Secret(key="broken"))
    known, broken = hook_recorder.named("flyte_secret_value")
    assert (known.result, known.error) == ("s3cret", None)
    assert known.kwargs["secret"] == Secret(key="known")
    assert isinstance(broken.error, RuntimeError) and broken.result is None
    hook_recorder.close()
    flyte_plugins.hook.flyte_secret_value(secret=Secret(key="known"))
    assert len(hook_recorder.calls) == 2, "a closed recorder records nothing more"
