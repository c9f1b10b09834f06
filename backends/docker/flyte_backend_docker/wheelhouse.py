"""A wheelhouse of this checkout's distributions and all their dependencies, built on the host.

Containers cannot be trusted to reach a package index, so the host runs ``pip wheel`` once: our own
distributions become wheels and every dependency is downloaded as a wheel, all into one folder
that an image build copies in and installs with ``--no-index``. The folder is keyed by a hash of
everything that shapes it (our sources, the extra requirements, the Python version and platform),
so an unchanged checkout reuses the cached wheelhouse and an edited one gets a new folder.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from flyte_core.extend import FlyteUsageError

#: Folders that hold one distribution each, beside the root ``flyte-core`` distribution.
PACKAGE_FOLDERS = ("backends", "typeplugins", "plugins")
#: Never part of a distribution's identity: tests are not shipped and caches are not sources.
SKIP_DIRS = frozenset({"tests", ".nox", "__pycache__", ".git", ".venv", "build", "dist", ".mypy_cache",
                       ".ruff_cache", ".pytest_cache"})
#: A marker written last, so a wheelhouse left half-built by a crash is never reused.
COMPLETE = "wheelhouse.json"
#: Older wheelhouses kept beside the newest; each is tens of megabytes.
KEEP = 4

# One lock per process is enough: builds of different keys are rare and each is short-lived.
_lock = threading.Lock()


class WheelhouseError(FlyteUsageError):
    """``pip wheel`` could not build or download a wheel; the message carries pip's last lines."""


class Wheelhouse(NamedTuple):
    """A folder of wheels and the names of our own distributions in it (unpacks as a 2-tuple)."""

    path: Path
    distributions: list[str]

    @property
    def key(self) -> str:
        """The content hash the folder is named after."""
        return self.path.name


def repo_root() -> Path:
    """The checkout flyte-core is installed from (the folder holding its ``pyproject.toml``)."""
    import importlib.util

    spec = importlib.util.find_spec("flyte_core")  # found, not imported: the folder is what matters
    root = Path(spec.origin if spec is not None and spec.origin else ".").resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise WheelhouseError(
            f"flyte_core is installed from {root}, which is not a source checkout; the docker backend "
            "builds images from a checkout installed with `pip install -e`."
        )
    return root


def distribution_name(package: Path) -> str:
    """The ``[project].name`` of the distribution at ``package``."""
    return str(_pyproject(package)["project"]["name"])


def repo_packages(root: Path | None = None) -> list[Path]:
    """The root distribution plus each ``backends/*``, ``typeplugins/*`` and ``plugins/*`` distribution
    with a ``pyproject.toml`` that is installed in this environment.

    Only installed ones, so a container loads the same plugins as the host session that starts it.
    """
    root = root or repo_root()
    found = [root]
    for folder in PACKAGE_FOLDERS:
        for pyproject in sorted((root / folder).glob("*/pyproject.toml")):
            if _installed(distribution_name(pyproject.parent)):
                found.append(pyproject.parent)
    return found


#: Extras never carried into images: tooling for working on a distribution, not for running it.
DEV_EXTRAS = frozenset({"test", "tests", "dev", "docs", "lint", "typing"})
_EXTRA_MARKER = re.compile(r"""^\s*extra\s*==\s*["']([^"']+)["']\s*$""")


def installed_extras(packages: Sequence[Path]) -> list[str]:
    """The requirements of each optional extra of ``packages`` that is installed here (all its
    requirements are), so images carry them too: an extra such as ``flyte-core[flyte2]`` brings what
    Flyte 2 programs import, and a container must be able to import it as the host can.
    Development extras (:data:`DEV_EXTRAS`) are left out."""
    found: list[str] = []
    for package in packages:
        try:
            dist = md.distribution(distribution_name(package))
        except md.PackageNotFoundError:
            continue
        by_extra: dict[str, list[str]] = {}
        for req in dist.requires or []:
            spec, _, marker = req.partition(";")
            m = _EXTRA_MARKER.match(marker)
            if m:
                by_extra.setdefault(m.group(1), []).append(spec.strip())
        for extra, reqs in sorted(by_extra.items()):
            if extra not in DEV_EXTRAS and all(_installed(_requirement_name(r)) for r in reqs):
                found += [r for r in reqs if r not in found]
    return found


def _requirement_name(requirement: str) -> str:
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return m.group(1) if m else requirement


def wheelhouse_key(packages: Sequence[Path], extra_requirements: Sequence[str],
                   python: tuple[int, int] | None = None) -> str:
    """The hash a wheelhouse is stored under: our sources, the extra requirements, Python, platform."""
    h = hashlib.sha256()
    h.update(json.dumps({"python": list(python or sys.version_info[:2]), "platform": sysconfig.get_platform(),
                         "extra": list(extra_requirements)}).encode())
    for package in packages:
        name = distribution_name(package)  # once: parsing its pyproject.toml per file cost 100 ms a run
        for rel, path in _source_files(package):
            h.update(f"{name}:{rel}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:20]


def build_wheelhouse(packages: list[Path], extra_requirements: list[str], cache_dir: Path,
                     log: Callable[[str], None] | None = None) -> Wheelhouse:
    """Wheels of ``packages`` (local distribution folders), their dependencies and
    ``extra_requirements``, in ``cache_dir/wheelhouse/<key>``; reused while the key is unchanged.

    Returns the folder and our own distribution names (what an image installs by name); ``log``
    hears one line when a build (not a cache hit) starts.
    Raises :class:`WheelhouseError` with pip's output when a wheel cannot be built or downloaded.
    """
    packages = [Path(p).resolve() for p in packages]
    names = [distribution_name(p) for p in packages]
    base = Path(cache_dir) / "wheelhouse"
    target = base / wheelhouse_key(packages, extra_requirements)
    with _lock:
        if (target / COMPLETE).is_file():
            return Wheelhouse(target, names)
        base.mkdir(parents=True, exist_ok=True)
        if log is not None:
            log(f"Building the wheelhouse {target.name} (pip wheel of {', '.join(names)})")
        # Build beside the target and rename: another process building the same key at the same
        # time then loses the rename harmlessly instead of seeing a half-filled folder.
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=base))
        try:
            _pip_wheel(tmp, packages, extra_requirements)
            (tmp / COMPLETE).write_text(json.dumps({"distributions": names, "extra": extra_requirements}))
            try:
                tmp.rename(target)
            except OSError:
                if not (target / COMPLETE).is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _prune(base, keep=target)
    return Wheelhouse(target, names)


def _pip_wheel(dest: Path, packages: list[Path], extra_requirements: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", "wheel", "--wheel-dir", str(dest), "--progress-bar", "off"]
    # Without build isolation pip uses the hatchling of this environment; with it, pip fetches
    # hatchling into a throwaway environment, which needs an index but works everywhere else.
    if importlib.util.find_spec("hatchling") is not None:
        cmd.append("--no-build-isolation")
    cmd += [str(p) for p in packages] + list(extra_requirements)
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PIP_NO_INPUT": "1"})
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise WheelhouseError(
            f"`pip wheel` failed (exit {proc.returncode}) while building the docker image's wheelhouse "
            f"from {', '.join(p.name for p in packages)}; check that every dependency is reachable "
            f"from this machine's pip configuration. Last lines:\n{tail}"
        )


def _prune(base: Path, keep: Path) -> None:
    """Delete all but the newest :data:`KEEP` complete wheelhouses (never ``keep``)."""
    done = sorted((p for p in base.iterdir() if (p / COMPLETE).is_file() and p != keep),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in done[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def _pyproject(package: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((package / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise WheelhouseError(f"Cannot read {package / 'pyproject.toml'}: {e}; fix or remove it.") from e


def _installed(name: str) -> bool:
    try:
        md.distribution(name)
    except md.PackageNotFoundError:
        return False
    return True


def _source_files(package: Path) -> Iterator[tuple[str, Path]]:
    """``pyproject.toml`` and every file of the folders the wheel ships, in a stable order.

    Every file, not only ``.py``: templates and static assets ship in wheels too (flyte-ui has them).
    """
    yield "pyproject.toml", package / "pyproject.toml"
    wheel = _pyproject(package).get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    folders = [package / p for p in wheel.get("packages", [])] or [package]
    for folder in folders:
        for path in sorted(_walk(folder)):
            yield path.relative_to(package).as_posix(), path


def _walk(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        # Nested distributions (the root's backends/, plugins/ ...) hash on their own.
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")
                       and not (Path(dirpath, d) / "pyproject.toml").exists()]
        for name in filenames:
            if not name.endswith((".pyc", ".pyo")):
                yield Path(dirpath, name)
