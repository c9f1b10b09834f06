"""FLYTE_HOME, the run store and the secret store are readable by their owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import flyte
from flyte_core.security.privatefiles import private_file, write_private
from flyte_core.security.secrets import LocalSecretStore


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


def test_a_damaged_run_store_gives_one_line_and_is_never_modified(tmp_path: Path) -> None:
    import hashlib
    import sqlite3
    import subprocess
    import sys

    home = Path(os.environ["FLYTE_HOME"])
    (tmp_path / "t.py").write_text(
        "import flyte\nenv = flyte.TaskEnvironment(name='dmg')\n\n@env.task\ndef f(x: int) -> int:\n    return x\n"
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=120)

    for i in range(3):
        assert cli("run", "--no-progress", "t.py", "f", "--x", str(i)).returncode == 0
    db = home / "runs.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for start in range(page, len(data), page):  # the header page stays intact; every other page is garbage
        data[start:start + 64] = b"\xff" * 64
    db.write_bytes(bytes(data))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    for args in (("runs", "list"), ("runs", "show", "r1"), ("run", "t.py", "f", "--x", "1")):
        r = cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr and str(db) in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
