"""Every test gets its own working folder and temporary folder (tasks and File.new_remote write
temporary files), so nothing leaks between tests or outlives them; its own FLYTE_HOME comes from
flyte-core's pytest plugin."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # worker processes
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # this process
    yield
