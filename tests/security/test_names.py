"""User-given run names never become paths outside the data store: one rule, checked on entry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import flyte
from flyte_core.errors.core import FlyteUsageError
from flyte_core.run.launcher import LaunchRequest
from flyte_core.security.names import check_name, inside
from flyte_core.storage.datastore import DataStore

BAD = ["..", ".", "../../../../tmp/x/ESCAPED", "a/b", "/abs", "a\nb", "x" * 64, "", "-lead", "trail.", "sp ace",
       "uni\u00e9"]
GOOD = ["r1", "my-run", "My_Run.2", "a", "x" * 63]

TASKS = '''
import flyte

env = flyte.TaskEnvironment(name="names")


@env.task
def hello() -> str:
    return "hi"
'''


@pytest.mark.parametrize("name", BAD)
def test_bad_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(FlyteUsageError, match="must be 1 to 63 characters"):
        check_name(name)


@pytest.mark.parametrize("name", GOOD)
def test_good_names_pass_unchanged(name: str) -> None:
    assert check_name(name) == name


def test_with_runcontext_and_launch_requests_refuse_bad_names() -> None:
    env = flyte.TaskEnvironment(name="n")

    @env.task
    def f() -> int:
        return 1

    for name in BAD[:4]:
        with pytest.raises(FlyteUsageError):
            flyte.with_runcontext(name=name).run(f)
        with pytest.raises(FlyteUsageError):
            LaunchRequest(file="f.py", task="f", name=name)
        with pytest.raises(FlyteUsageError):
            flyte.with_runcontext(recover=name).run(f)


def test_data_store_paths_never_leave_the_root(tmp_path: Path) -> None:
    store = DataStore(str(tmp_path / "data"))
    assert store.url("runs", "r1", "data") == f"{tmp_path}/data/runs/r1/data"
    for part in ("..", "../x", "a/../../b"):
        with pytest.raises(FlyteUsageError, match=r"contains '\.\.'"):
            store.url("runs", part)
    assert inside(tmp_path, "a", "b") == str((tmp_path / "a" / "b").resolve())
    with pytest.raises(FlyteUsageError, match="leaves its root"):
        inside(tmp_path, "a", "../../etc")


@pytest.mark.parametrize("backend", ["local", "local-process", "docker", "kubernetes"])
def test_cli_refuses_traversal_names_on_every_backend_before_anything_is_written(
    tmp_path: Path, backend: str
) -> None:
    (tmp_path / "t.py").write_text(TASKS)
    for name in ("../../../escaped", "a/b"):
        r = subprocess.run([sys.executable, "-m", "flyte_core.cli", "run", "--backend", backend, "--name", name,
                            "t.py", "hello"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip().count("\n") == 0 and "must be 1 to 63 characters" in r.stderr
    assert not list(tmp_path.parent.rglob("escaped")) and not (tmp_path / "a").exists()
