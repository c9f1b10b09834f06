"""The pytest plugin flyte-core installs (entry point ``pytest11``): fixtures for plugin authors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flyte_core.session import Session


@pytest.fixture
def flyte_session(tmp_path: Path) -> Iterator[Session]:
    """A session with its own data store and run store under a temporary folder."""
    s = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    try:
        yield s
    finally:
        s.close()
