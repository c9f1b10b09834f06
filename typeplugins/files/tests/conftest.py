"""Every test gets its own FLYTE_HOME, working folder and temporary folder (tasks and File.new_remote
write temporary files), so nothing leaks between tests or outlives them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import flyte_core.api


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLYTE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FLYTE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # worker processes
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # this process
    yield
    flyte_core.api.reset()
