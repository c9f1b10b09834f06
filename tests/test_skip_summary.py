"""Tests a fixture skips for one reason give one line of pytest's skip summary (flyte-core's pytest
plugin), as the Kubernetes end-to-end suite does without a cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SUITE = '''
import pytest


@pytest.fixture(scope="session")
def cluster():
    pytest.skip("no cluster reachable (ConnectionError: refused\\n  at 127.0.0.1:6443); start one")


@pytest.fixture
def engine():
    pytest.skip("no engine")


def test_pods(cluster):
    pass


def test_secrets(cluster):
    pass


def test_logs(cluster):
    pass


def test_on_the_engine(engine):
    pass


def test_skipped_in_its_body():
    pytest.skip("not here")
'''


def test_tests_a_fixture_skips_fold_into_one_line_per_reason(tmp_path: Path) -> None:
    (tmp_path / "test_folded.py").write_text(SUITE)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    lines = [line for line in r.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(lines) == 3, r.stdout
    assert lines[0].startswith("SKIPPED [3] test_folded.py:")
    assert lines[0].endswith("no cluster reachable (ConnectionError: refused at 127.0.0.1:6443); start one")
    assert any(line.startswith("SKIPPED [1]") and line.endswith("no engine") for line in lines)
    assert any(line.startswith("SKIPPED [1]") and line.endswith("not here") for line in lines)
    assert "5 skipped" in r.stdout
