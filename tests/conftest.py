"""Shared fixtures: every test gets its own FLYTE_HOME, so no state leaks between tests."""

from __future__ import annotations

import threading
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


@pytest.fixture
def no_thread_leak() -> Iterator[None]:
    """Fails the test if it leaves threads running."""
    before = {t.ident for t in threading.enumerate()}
    yield
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not left, f"threads left running: {[t.name for t in left]}"
