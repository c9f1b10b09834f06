"""The wheelhouse: which distributions, its key, and reuse of a cached build (pip, no engine)."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from flyte_backend_docker.wheelhouse import build_wheelhouse, repo_packages, repo_root, wheelhouse_key

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def toy_package(root: Path, body: str = "VALUE = 1\n") -> Path:
    """A one-module hatchling distribution without dependencies (quick to wheel)."""
    (root / "toy_dist").mkdir(parents=True, exist_ok=True)
    (root / "toy_dist" / "__init__.py").write_text(body)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling>=1.21"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "toy-dist"\nversion = "0.1.0"\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["toy_dist"]\n'
    )
    return root


def test_repo_packages_are_the_installed_distributions_of_this_checkout() -> None:
    root = repo_root()
    packages = repo_packages()
    assert packages[0] == root
    assert root / "backends" / "local" in packages
    assert root / "backends" / "docker" in packages  # the containers run this backend's worker
    assert all((p / "pyproject.toml").is_file() for p in packages)
    assert root / "examples" / "plugin-example" not in packages


def test_second_build_is_a_cache_hit(tmp_path: Path) -> None:
    pkg = toy_package(tmp_path / "toy")
    heard: list[str] = []
    first = build_wheelhouse([pkg], [], tmp_path / "cache", log=heard.append)
    assert first.distributions == ["toy-dist"]
    assert [p.name.split("-")[:2] for p in first.path.glob("*.whl")] == [["toy_dist", "0.1.0"]]
    assert len(heard) == 1
    started = time.monotonic()
    second = build_wheelhouse([pkg], [], tmp_path / "cache", log=heard.append)
    assert time.monotonic() - started < 1
    assert second == first and second.key == first.key
    assert len(heard) == 1  # no second build


def test_edited_source_gets_a_new_wheelhouse(tmp_path: Path) -> None:
    pkg = toy_package(tmp_path / "toy")
    first = build_wheelhouse([pkg], [], tmp_path / "cache")
    toy_package(pkg, body="VALUE = 2\n")
    second = build_wheelhouse([pkg], [], tmp_path / "cache")
    assert second.path != first.path
    with zipfile.ZipFile(next(second.path.glob("toy_dist-*.whl"))) as wheel:
        assert wheel.read("toy_dist/__init__.py") == b"VALUE = 2\n"


def test_key_covers_sources_requirements_python_and_nothing_else(tmp_path: Path) -> None:
    pkg = toy_package(tmp_path / "toy")
    key = wheelhouse_key([pkg], [])
    (pkg / "tests").mkdir()
    (pkg / "tests" / "test_x.py").write_text("x")
    (pkg / "toy_dist" / "__pycache__").mkdir()
    (pkg / "toy_dist" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"x")
    assert wheelhouse_key([pkg], []) == key
    assert wheelhouse_key([pkg], ["requests"]) != key
    assert wheelhouse_key([pkg], [], python=(3, 99)) != key
    (pkg / "toy_dist" / "template.html").write_text("<p>")  # shipped data files count too
    assert wheelhouse_key([pkg], []) != key


def test_installed_extras_go_into_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flyte_backend_docker.wheelhouse import installed_extras

    package = tmp_path / "src"
    package.mkdir()
    (package / "pyproject.toml").write_text('[project]\nname = "fake-dist"\nversion = "1.0"\n')
    info = tmp_path / "site" / "fake_dist-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-dist\nVersion: 1.0\n"
        "Requires-Dist: attrs>=23\n"  # a plain dependency: the wheel itself brings it
        'Requires-Dist: pluggy>=1.5; extra == "present"\nRequires-Dist: cattrs; extra == "present"\n'
        'Requires-Dist: surely-not-installed-dist; extra == "absent"\nRequires-Dist: pluggy; extra == "partly"\n'
        'Requires-Dist: surely-not-installed-dist; extra == "partly"\nRequires-Dist: pytest; extra == "test"\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert installed_extras([package]) == ["pluggy>=1.5", "cattrs"]
