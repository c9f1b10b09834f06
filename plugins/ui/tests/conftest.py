"""Fixtures for the UI tests: a session with real runs in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import ui_pipeline as p
from ui_support import Runs

import flyte.errors
from flyte_core.extend import Session


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """A session (own data and run store) with a succeeded pipeline run and a failed run."""
    tmp = tmp_path_factory.mktemp("ui")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLYTE_HOME", str(tmp / "home"))
        mp.delenv("FLYTE_CONFIG", raising=False)
        mp.chdir(tmp)
        session = Session(backend="local", data_url=str(tmp / "data"), run_store=str(tmp / "runs.db"), root_dir=tmp)
        ok = session.run(p.pipeline, n=3, marker=str(tmp / "marker")).name
        with pytest.raises(flyte.errors.RuntimeUserError) as ei:
            session.run(p.doomed, x=7)
        failed = ei.value.run.name  # type: ignore[attr-defined]
        try:
            yield Runs(session, ok, failed)
        finally:
            session.close()
