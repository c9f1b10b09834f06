"""The entry points of group ``flyte`` are remembered in ``$FLYTE_HOME/cache`` between processes, and
scanned again whenever what is installed changes."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import subprocess
import sys
from pathlib import Path

# Prints the entry points found (name, distribution, version) and whether importlib.metadata was
# needed to find them.
PROBE = """
import json, sys
from flyte_core.plugins.entrypoints import entry_points
found = entry_points("flyte")
print(json.dumps({"found": [[e.name, e.dist, e.version] for e in found],
                  "scanned": "importlib.metadata" in sys.modules}))
"""


def _probe(home: Path, site: Path | None = None) -> dict[str, object]:
    env = {**os.environ, "FLYTE_HOME": str(home)}
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, cwd=home,
                         check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _dist(site: Path, name: str, version: str, entry: str) -> Path:
    """A distribution on ``site`` with one ``flyte`` entry point ``entry``."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[flyte]\n{entry} = {name.replace('-', '_')}_mod\n")
    return info


def test_a_second_process_reads_the_cache(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    first, second = _probe(home), _probe(home)
    installed = sorted([ep.name, ep.dist.name if ep.dist else None, ep.dist.version if ep.dist else None]
                       for ep in md.entry_points(group="flyte"))
    assert first["found"] == installed and first["scanned"] is True
    assert second["found"] == installed and second["scanned"] is False
    assert (home / "cache" / "entry-points.json").is_file()


def test_installing_removing_or_editing_a_distribution_is_seen(tmp_path: Path) -> None:
    home, site = tmp_path / "home", tmp_path / "site"
    home.mkdir()
    site.mkdir()
    _dist(site, "flyte-one", "1.0", "one")
    assert ["one", "flyte-one", "1.0"] in _probe(home, site)["found"]

    two = _dist(site, "flyte-two", "2.0", "two")  # installed since
    after = _probe(home, site)
    assert after["scanned"] is True and ["two", "flyte-two", "2.0"] in after["found"]

    points = two / "entry_points.txt"  # edited in place (the folder's own time does not change)
    points.write_text("[flyte]\nrenamed = flyte_two_mod\n")
    later = points.stat().st_mtime_ns + 1_000_000_000
    os.utime(points, ns=(later, later))
    names = [e[0] for e in _probe(home, site)["found"]]  # type: ignore[union-attr]
    assert "renamed" in names and "two" not in names

    for f in two.iterdir():  # removed
        f.unlink()
    two.rmdir()
    names = [e[0] for e in _probe(home, site)["found"]]  # type: ignore[union-attr]
    assert "renamed" not in names and "one" in names


def test_each_environment_keeps_its_own_entry(tmp_path: Path) -> None:
    """Two ``sys.path``s sharing one FLYTE_HOME (another environment, or ``python`` beside the
    ``flyte`` command) do not scan in turns."""
    home, site = tmp_path / "home", tmp_path / "site"
    home.mkdir()
    site.mkdir()
    _dist(site, "flyte-one", "1.0", "one")
    _probe(home, site)
    _probe(home)
    with_site, without = _probe(home, site), _probe(home)
    assert with_site["scanned"] is False and ["one", "flyte-one", "1.0"] in with_site["found"]
    assert without["scanned"] is False and ["one", "flyte-one", "1.0"] not in without["found"]


def test_a_damaged_cache_is_scanned_again_and_no_cache_without_flyte_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "cache").mkdir(parents=True)
    cache = home / "cache" / "entry-points.json"
    cache.write_text("{not json")
    found = _probe(home)
    assert found["scanned"] is True and found["found"]
    assert isinstance(json.loads(cache.read_text()), list)

    missing = tmp_path / "no-such-home"
    assert _probe_in(missing, tmp_path)["found"] == found["found"]
    assert not missing.exists()  # the cache never creates FLYTE_HOME


def _probe_in(home: Path, cwd: Path) -> dict[str, object]:
    env = {**os.environ, "FLYTE_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, cwd=cwd,
                         check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


# As PROBE, in an environment whose prefix is the folder in FROZEN_PREFIX (as a task image's venv):
# the frozen record is looked for under it.
PREFIXED = "import os, sys\nsys.prefix = os.environ['FROZEN_PREFIX']\n"


def _run_prefixed(code: str, prefix: Path, cwd: Path, site: Path | None = None) -> str:
    env = {**os.environ, "FLYTE_HOME": str(cwd / "no-such-home"), "FROZEN_PREFIX": str(prefix)}
    if site is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-c", PREFIXED + code], env=env, capture_output=True, text=True,
                          cwd=cwd, check=True).stdout


def test_an_image_freezes_its_entry_points_and_its_workers_read_them(tmp_path: Path) -> None:
    """`python -m flyte_core.plugins.entrypoints` (an image's last build step) records the entry
    points under the environment's prefix; a worker with no FLYTE_HOME, started from another
    folder (its code, with no distributions), finds them there without scanning."""
    prefix, site, code = tmp_path / "venv", tmp_path / "site", tmp_path / "code"
    for d in (prefix, site, code):
        d.mkdir()
    _dist(site, "flyte-one", "1.0", "one")
    frozen = _run_prefixed("from flyte_core.plugins.entrypoints import freeze\nprint(freeze())", prefix, tmp_path,
                           site).strip()
    assert frozen == str(prefix / "share" / "flyte" / "entry-points.json") and Path(frozen).is_file()

    worker = json.loads(_run_prefixed(PROBE, prefix, code, site))
    assert worker["scanned"] is False and ["one", "flyte-one", "1.0"] in worker["found"]
    scanned = json.loads(_run_prefixed(PROBE.replace('entry_points("flyte")', '_scan("flyte")').replace(
        "import entry_points", "import _scan"), prefix, code, site))
    assert scanned["found"] == worker["found"]  # what a scan finds

    _dist(site, "flyte-two", "2.0", "two")  # installed after the freeze: the record is stale
    later = json.loads(_run_prefixed(PROBE, prefix, code, site))
    assert later["scanned"] is True and ["two", "flyte-two", "2.0"] in later["found"]
    assert not (code / "no-such-home").exists()  # and nothing was written for it
