"""Code bundles: which files, determinism, content addressing, the size guard, extraction."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from flyte_core.storage.datastore import DataStore
from flyte_core.worker.bundle import BundleError, bundle_files, extract_bundle, make_bundle


def project(root: Path) -> Path:
    """A small project with things to ignore."""
    files = {
        "main.py": "print('main')\n",
        "pkg/__init__.py": "",
        "pkg/mod.py": "X = 1\n",
        "run.sh": "#!/bin/sh\necho run\n",
        "build/out.bin": "built",
        "data/big.csv": "a,b\n",
        "notes.tmp": "scratch",
        "pkg/__pycache__/mod.cpython-311.pyc": "bytecode",
        "stray.pyc": "bytecode",
        ".venv/lib/site.py": "venv",
        ".nox/x.txt": "nox",
        ".gitignore": "build/\n*.tmp\n",
        ".flyteignore": "data/\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "run.sh").chmod(0o755)
    return root


EXPECTED = [".flyteignore", ".gitignore", "main.py", "pkg/__init__.py", "pkg/mod.py", "run.sh"]


def test_outside_git_honours_gitignore_and_flyteignore(tmp_path: Path) -> None:
    assert bundle_files(project(tmp_path / "p")) == EXPECTED


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_inside_git_lists_what_git_would_track(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "pkg" / ".gitignore").write_text("generated.py\n")  # nested ignores: git's job
    (root / "pkg" / "generated.py").write_text("x")
    assert bundle_files(root) == sorted([*EXPECTED, "pkg/.gitignore"])
    # A sub-folder of a work tree bundles only itself, with paths relative to it.
    assert bundle_files(root / "pkg") == [".gitignore", "__init__.py", "mod.py"]


@pytest.mark.parametrize("in_git", [False, True])
def test_excluded_stores_are_never_walked_nor_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     in_git: bool) -> None:
    # A run store and data store inside the project (FLYTE_HOME=./home) hold every run's files:
    # they are left out of the bundle, and never walked or listed (that took seconds per run).
    if in_git and shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = project(tmp_path / "p")
    for i in range(50):
        (root / "home" / "data" / f"a{i}").mkdir(parents=True)
        (root / "home" / "data" / f"a{i}" / "out.json").write_text("{}")
    (root / "home" / "runs.db").write_text("sqlite")
    (root / "sub" / ".flyte").mkdir(parents=True)
    (root / "sub" / ".flyte" / "state.json").write_text("{}")
    (root / "sub" / "keep.py").write_text("")
    if in_git:
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    seen: list[str] = []
    walk, run = os.walk, subprocess.run

    def walking(top: str, *a: object, **kw: object):  # type: ignore[no-untyped-def]
        for entry in walk(top, *a, **kw):  # type: ignore[arg-type]
            seen.extend(os.path.join(entry[0], f) for f in entry[2])
            yield entry

    def running(argv: list[str], *a: object, **kw: object):  # type: ignore[no-untyped-def]
        out = run(argv, *a, **kw)  # type: ignore[call-overload]
        if argv[:2] == ["git", "ls-files"]:
            seen.extend(out.stdout.decode().split("\0"))
        return out

    monkeypatch.setattr(os, "walk", walking)
    monkeypatch.setattr(subprocess, "run", running)
    files = bundle_files(root, exclude=[root / "home" / "data", root / "home" / "runs.db"])
    assert files == sorted([*EXPECTED, "sub/keep.py"])
    assert seen and not [f for f in seen if "/home/data/" in f"/{f}" or "/.flyte/" in f"/{f}"]


def test_deterministic_and_content_addressed(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    store = DataStore(str(tmp_path / "store"))
    url = make_bundle(root, store)
    assert url.startswith(store.url("bundles/")) and url.endswith(".tar.gz")
    uploaded = tmp_path / "store" / "bundles" / Path(url).name
    stamp = uploaded.stat().st_mtime_ns
    os.utime(root / "main.py", (0, 0))  # mtimes do not matter
    assert make_bundle(root, store) == url
    assert uploaded.stat().st_mtime_ns == stamp, "an existing bundle was uploaded again"
    (root / "pkg" / "mod.py").write_text("X = 2\n")
    assert make_bundle(root, store) != url
    assert sorted(p.name for p in (tmp_path / "store" / "bundles").iterdir() if ".tmp-" in p.name) == []


def test_archive_is_normalised(tmp_path: Path) -> None:
    url = make_bundle(project(tmp_path / "p"), DataStore(str(tmp_path / "store")))
    with tarfile.open(url.removeprefix("file://"), "r:gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == EXPECTED
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
    assert {m.name: m.mode for m in members}["run.sh"] == 0o755
    assert {m.name: m.mode for m in members}["main.py"] == 0o644


def test_extract_round_trip(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    for store in (DataStore(str(tmp_path / "store")), DataStore(f"memory://bundle-test-{os.getpid()}")):
        url = make_bundle(root, store)
        dest = tmp_path / "out" / store.fs.protocol[0]
        extract_bundle(url, dest)
        got = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
        assert got == EXPECTED
        for rel in got:
            assert (dest / rel).read_bytes() == (root / rel).read_bytes()
        assert os.access(dest / "run.sh", os.X_OK)


def test_extract_refuses_a_corrupt_bundle(tmp_path: Path) -> None:
    store = DataStore(str(tmp_path / "store"))
    url = make_bundle(project(tmp_path / "p"), store)
    path = tmp_path / "store" / "bundles" / Path(url).name
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(BundleError, match="corrupt"):
        extract_bundle(url, tmp_path / "out")


def test_extract_refuses_paths_outside_dest(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    (tmp_path / "x").write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(tmp_path / "x", arcname="../escaped")
    with pytest.raises(BundleError, match="unsafe entry"):
        extract_bundle(str(evil), tmp_path / "out")
    assert not (tmp_path / "escaped").exists()


def test_size_guard_names_the_biggest_files(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    (root / "model.bin").write_bytes(b"\0" * 5000)
    with pytest.raises(BundleError, match=r"model\.bin.*\.flyteignore"):
        make_bundle(root, DataStore(str(tmp_path / "store")), max_bytes=1000)
    (root / ".flyteignore").write_text("data/\nmodel.bin\n")
    make_bundle(root, DataStore(str(tmp_path / "store")), max_bytes=1000)


def test_extract_side_is_import_light() -> None:
    # Containers extract bundles at start-up: no docker, pathspec, attrs, cattrs or pluggy for that, and
    # of the core only the bundle and its error type.
    code = ("import sys, flyte_core.worker.bundle as b; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('docker', 'pathspec', 'attrs', 'cattrs', 'pluggy', 'flyte_core'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert [m for m in loaded if not m.startswith("flyte_core")] == []
    assert {m.split(".")[1] for m in loaded if "." in m} == {"errors", "worker"}
