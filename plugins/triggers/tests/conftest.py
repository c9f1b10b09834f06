"""Every test gets its own FLYTE_HOME and working folder, so no state leaks between tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test works in its own folder (FLYTE_HOME is flyte_core.testing's ``flyte_home`` fixture)."""
    monkeypatch.chdir(tmp_path)
