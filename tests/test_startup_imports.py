"""A process pays at start-up only for what its run uses: a run of a task taking and returning an
``int`` (the cache filled, then hit, in a fresh interpreter each time) imports neither the pickle
machinery, nor ctypes, nor ``secrets``, nor the storage settings, nor the record transformers of
the dataclasses plugin. Each is imported the first time something needs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json, sys
import flyte

env = flyte.TaskEnvironment(name="startup", cache="auto")


@env.task
def inc(x: int) -> int:
    return x + 1


flyte.init()
assert flyte.run(inc, 41).outputs()[0] == 42
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""

#: Loaded on first use only; what needs each: a Callable or pickled input, a timeout or abort, a
#: flyte.storage object given to init, a dataclass or attrs input.
NOT_AT_START = {"pickle", "cloudpickle", "ctypes", "secrets", "flyte_core.storage.config",
                "flyte_types_dataclasses.record"}


def loaded_by_run(tmp_path: Path) -> set[str]:
    (tmp_path / "startup.py").write_text(SCRIPT)
    out = subprocess.run([sys.executable, "startup.py"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={**os.environ, "FLYTE_HOME": str(tmp_path / "home")})
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stderr.rsplit("MODULES ", 1)[1]))


def test_a_plain_run_imports_only_what_it_uses(tmp_path: Path) -> None:
    first = loaded_by_run(tmp_path)  # a miss: runs the task and writes the entry (through fsspec, which loads ctypes)
    assert "flyte_types_dataclasses.plugin" in first  # the plugin itself is loaded, its transformers not
    assert (NOT_AT_START - {"ctypes"}) & first == set()
    assert NOT_AT_START & loaded_by_run(tmp_path) == set()  # a hit, in a new process


def test_what_is_left_out_still_loads_when_a_run_needs_it(tmp_path: Path) -> None:
    (tmp_path / "lazy.py").write_text("""
import dataclasses
from collections.abc import Callable
import flyte
import flyte.storage

env = flyte.TaskEnvironment(name="lazy")


@dataclasses.dataclass
class Point:
    x: int


@env.task
def apply(f: Callable[[int], int], p: Point) -> Point:
    return Point(f(p.x))


flyte.init(storage=flyte.storage.S3(endpoint="http://localhost:1"))
print(flyte.run(apply, lambda v: v * 2, Point(21)).outputs()[0])
""")
    out = subprocess.run([sys.executable, "lazy.py"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={**os.environ, "FLYTE_HOME": str(tmp_path / "home")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Point(x=42)"


def test_unpacking_a_code_bundle_imports_none_of_what_only_bundling_needs(tmp_path: Path) -> None:
    """Every fresh task container unpacks the run's code bundle before its task starts: it does not
    pay for what only the host needs to make one (git through subprocess, uuid, pathspec)."""
    from flyte_core.storage.datastore import DataStore
    from flyte_core.worker.bundle import make_bundle

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "wmod.py").write_text("X = 1\n")
    url = make_bundle(tmp_path / "code", DataStore(str(tmp_path / "store")))
    script = (f"import json, sys\nfrom pathlib import Path\nfrom flyte_core.worker.bundle import extract_bundle\n"
              f"extract_bundle({url!r}, Path({str(tmp_path / 'out')!r}))\n"
              "print(json.dumps(sorted(m for m in ('subprocess', 'uuid', 'pathspec') if m in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
    assert (tmp_path / "out" / "wmod.py").read_text() == "X = 1\n"
