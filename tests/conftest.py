"""Shared fixtures: every test works in its own folder (its own FLYTE_HOME comes from flyte-core's
pytest plugin, ``flyte_core.testing.plugin``), so no state leaks between tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def no_thread_leak() -> Iterator[None]:
    """Fails the test if it leaves threads running."""
    before = {t.ident for t in threading.enumerate()}
    yield
    left = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert not left, f"threads left running: {[t.name for t in left]}"
