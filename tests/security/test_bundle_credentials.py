"""Code bundles (mounted by every container of a run) leave credential files out, with a warning."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

bundle = pytest.importorskip("flyte_core.worker.bundle", reason="the docker backend builds code bundles")

FILES = {
    "main.py": "print('main')\n",
    ".env": "API_KEY=abc\n",
    ".env.production": "API_KEY=prod\n",
    ".env.example": "API_KEY=\n",
    "deploy/server.key": "-----BEGIN PRIVATE KEY-----\n",
    "keys/id_ed25519": "private\n",
    "keys/id_ed25519.pub": "ssh-ed25519 AAAA\n",
    "conf/gcp-credentials.json": "{}\n",
    ".netrc": "machine x login y password z\n",
    ".aws/credentials": "[default]\n",
    "pkg/settings.py": "DEBUG = True\n",
}


def make(root: Path) -> Path:
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize("in_git", [False, True])
def test_credential_files_stay_out_even_when_git_tracks_them(
    tmp_path: Path, in_git: bool, caplog: pytest.LogCaptureFixture
) -> None:
    root = make(tmp_path / "proj")
    if in_git:  # tracked on purpose (a mistake users make): still left out
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        subprocess.run(["git", "add", "-A", "-f"], cwd=root, check=True)
    with caplog.at_level(logging.WARNING, logger="flyte"):
        files = bundle.bundle_files(root)
    assert files == [".env.example", "keys/id_ed25519.pub", "main.py", "pkg/settings.py"]
    (warning,) = [r.getMessage() for r in caplog.records if "credentials" in r.getMessage()]
    for withheld in (".env", ".env.production", "deploy/server.key", "keys/id_ed25519", ".netrc",
                     "conf/gcp-credentials.json", ".aws/credentials"):
        assert withheld in warning
    assert ".flyteignore" in warning


def test_flyteignore_can_ship_one_on_purpose(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = make(tmp_path / "proj")
    (root / ".flyteignore").write_text("!deploy/server.key\n")
    files = bundle.bundle_files(root)
    assert "deploy/server.key" in files and ".env" not in files


def test_no_warning_for_a_clean_project(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "main.py").write_text("x = 1\n")
    with caplog.at_level(logging.WARNING, logger="flyte"):
        assert bundle.bundle_files(tmp_path) == ["main.py"]
    assert not caplog.records
