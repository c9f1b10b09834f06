"""FLYTE_HOME, the run store and the secret store are readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import flyte
from flyte_core.privatefiles import private_file, write_private
from flyte_core.secrets import LocalSecretStore


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_home_is_tightened_and_run_store_is_0600(tmp_path: Path) -> None:
    home = Path(os.environ["FLYTE_HOME"])
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    env = flyte.TaskEnvironment(name="priv")

    @env.task
    def f() -> int:
        return 1

    flyte.run(f)
    assert mode(home) == 0o700
    assert mode(home / "runs.db") == 0o600
    for side in home.glob("runs.db-*"):  # WAL and shared-memory files take the database's mode
        assert mode(side) & 0o077 == 0


def test_existing_loose_run_store_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    db.write_bytes(b"")
    os.chmod(db, 0o644)
    private_file(db)
    assert mode(db) == 0o600


def test_secret_store_ignores_a_leftover_world_readable_temp_file(tmp_path: Path) -> None:
    home = Path(os.environ["FLYTE_HOME"])
    home.mkdir(mode=0o755)
    for leftover in ("secrets.tmp", ".secrets.json.tmp"):
        (home / leftover).write_text("{}")
        os.chmod(home / leftover, 0o644)
    store = LocalSecretStore()
    store.set("token", "s3cr3t")
    assert mode(store.path) == 0o600 and mode(home) == 0o700
    assert store.get("token") == "s3cr3t"


def test_write_private_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    target.write_text("old")
    os.chmod(target, 0o644)
    write_private(target, b"new")
    assert target.read_text() == "new" and mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
