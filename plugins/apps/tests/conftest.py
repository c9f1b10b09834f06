"""Every test gets its own FLYTE_HOME and working folder, so no state leaks between tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import flyte_core.api


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLYTE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLYTE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    flyte_core.api.reset()
