"""What of a hostPath data store task pods see, on a real cluster (docs/security.md, "Kubernetes"):
their run's folder read-only and their attempt's own folders, never other runs, the cache or another
attempt's spec (and channel token); a value from elsewhere in the store (a ``File`` of another run,
a cache hit recorded by another run) still reaches the task that is handed it, imported into its
run. Runs driven from this process and durable runs (a driver pod) alike. The mount list itself is
tested fast in test_k8s_confinement.py."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import kube_options
from test_k8s_cli import cli, project

from flyte_core.extend import BaseRuntimeError, Config, RunOptions, Session, load_file

pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("kube")]

TASKS = '''
import json
import os

import flyte
from flyte.io import File

env = flyte.TaskEnvironment(name="views")


def _read(path):
    try:
        with open(path) as f:
            return "read:" + f.read()
    except OSError as e:
        return type(e).__name__


def _append(path):
    try:
        with open(path, "a") as f:
            f.write("tampered")
        return "written"
    except OSError as e:
        return type(e).__name__


def _list(path):
    try:
        return ",".join(sorted(os.listdir(path)))
    except OSError as e:
        return type(e).__name__


@env.task
def write_file(text: str) -> File:
    with open("/tmp/out.txt", "w") as f:
        f.write(text)
    return File.from_local_sync("/tmp/out.txt")


@env.task
def read_path(path: str) -> str:
    return _read(path)


@env.task
def append_to(path: str) -> str:
    return _append(path)


@env.task
def read_file(f: File) -> str:
    with f.open_sync() as fh:
        return fh.read().decode()


@env.task(cache="auto")
def cached_file(text: str) -> File:
    return write_file(text)


@env.task
def via_cache(text: str) -> str:
    return read_file(cached_file(text))


@env.task
def write_then_read(text: str) -> str:
    f = write_file(text)
    if os.environ.get("FAIL_ONCE"):
        raise ValueError("failing on purpose, after the child wrote its file")
    return read_file(f) + "|" + _read(f.path)


@env.task
def peek(data: str, sibling: str) -> dict[str, str]:
    run = flyte.ctx().action.run_name
    return {"attempts": _list(f"{data}/k8s/{run}"), "sibling_spec": _read(f"{data}/k8s/{run}/{sibling}/spec.json"),
            "sibling_outcome": _append(f"{data}/k8s/{run}/{sibling}/outcome.json")}


@env.task
def spy(data: str) -> str:
    """What a pod sees of the store, and what its child sees of this attempt's folder."""
    run = flyte.ctx().action.run_name
    own = os.listdir(f"{data}/k8s/{run}")
    with open(f"{data}/k8s/{run}/{own[0]}/spec.json") as f:
        token = json.load(f).get("channel_token")
    child = peek(data, own[0])
    return json.dumps({
        "store": _list(data), "runs": _list(f"{data}/runs"), "cache": _list(f"{data}/cache"),
        "own": ",".join(own), "own_token": bool(token), "old_place": os.path.exists(f"{data}/runs/{run}/k8s"),
        **{"child_" + k: v for k, v in child.items()},
    }, sort_keys=True)
'''


@pytest.fixture
def tasks(tmp_path: Path) -> Any:
    (tmp_path / "view_tasks.py").write_text(TASKS)
    sys.modules.pop("view_tasks", None)
    return load_file(tmp_path / "view_tasks.py", tmp_path)


@pytest.fixture
def session(tmp_path: Path, tasks: Any) -> Iterator[Session]:
    data = tmp_path / "data"
    s = Session(config=Config(), backend="kubernetes", backend_options=kube_options(data), data_url=str(data),
                run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    yield s
    s.close()


def assert_sees_only_its_own(seen: dict[str, Any]) -> None:
    """``spy``'s findings: the store shows only what the pod mounts; the child's pod sees its own
    attempt folder only, not its parent's spec (with the parent's channel token) or outcome."""
    assert seen["store"] == "bundles,ch,k8s,runs", seen  # no cache, no drivers, no other folder
    assert seen["cache"] == "FileNotFoundError", seen
    assert "," not in seen["runs"], seen  # its own run only
    assert "," not in seen["own"] and seen["own_token"] is True and seen["old_place"] is False, seen
    assert "," not in seen["child_attempts"] and seen["child_attempts"] != seen["own"], seen
    assert seen["child_sibling_spec"] == "FileNotFoundError", seen
    assert seen["child_sibling_outcome"] != "written", seen


def test_a_pod_sees_its_run_and_its_own_attempt_folder_only(session: Session, tasks: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    session.run(tasks.write_file, "another run's data")  # a second run folder in the store
    assert_sees_only_its_own(json.loads(session.run(tasks.spy, data=str(data)).outputs()[0]))
    # Each attempt's folder (its spec, token, outcome and log) is gone once the attempt is over.
    assert not list((data / "k8s").glob("*/*"))


def test_another_runs_outputs_are_out_of_reach(session: Session, tasks: Any, tmp_path: Path) -> None:
    first = session.run(tasks.write_file, "first run's secret").outputs()[0]
    path = first.path
    assert path.startswith(str(tmp_path / "data" / "runs")) and Path(path).read_text() == "first run's secret"
    # A second run's pod that knows the path cannot open it: the first run's folder is not mounted.
    assert session.run(tasks.read_path, path).outputs()[0] == "FileNotFoundError"
    assert session.run(tasks.append_to, path).outputs()[0] != "written"
    assert Path(path).read_text() == "first run's secret"
    # Handing it over as a value makes exactly that file readable (imported into the second run).
    assert session.run(tasks.read_file, first).outputs()[0] == "first run's secret"


def test_a_cache_hit_from_another_run_reaches_its_caller(session: Session, tasks: Any, tmp_path: Path) -> None:
    assert session.run(tasks.via_cache, "cached").outputs()[0] == "cached"
    # The child is now a cache hit whose File lives in the first run's folder: imported for the caller.
    second = session.run(tasks.via_cache, "cached")
    assert second.outputs()[0] == "cached"
    imported = list((tmp_path / "data" / "runs" / second.name / "imports").rglob("*"))
    assert any(p.is_file() and p.read_text() == "cached" for p in imported), imported


def test_a_recovering_run_reads_the_recovered_runs_outputs(session: Session, tasks: Any) -> None:
    with pytest.raises(BaseRuntimeError, match="failing on purpose"):
        session.run_with(RunOptions(env_vars={"FAIL_ONCE": "1"}), tasks.write_then_read, ("kept",), {})
    failed = session.runs.list_runs()[0].name
    run = session.run_with(RunOptions(recover=failed), tasks.write_then_read, (), {})
    # The child is not run again: its File stays in the failed run's folder, which the recovering
    # run's pods mount read-only (the child reading it, and the parent by its path).
    assert run.outputs()[0] == "kept|read:kept"
    assert {a.action: a.recovered_from for a in run.actions()}["a0.1"] == failed


def test_a_durable_runs_pods_see_only_their_own(tmp_path: Path) -> None:
    proj = project(tmp_path)
    data = proj / "data"
    (proj / "view_tasks.py").write_text(TASKS)
    planted = data / "runs" / "someone-else" / "data" / "secret.txt"
    planted.parent.mkdir(parents=True)
    planted.write_text("not yours")
    run = f"view-{uuid.uuid4().hex[:8]}"  # this run only: others may run the suite on the cluster
    r = cli(proj, "run", "--name", run, "view_tasks.py", "spy", "--data", str(data))
    assert r.returncode == 0, r.stderr
    assert_sees_only_its_own(json.loads(r.stdout))
    r = cli(proj, "run", "--name", f"{run}-2", "view_tasks.py", "read_path", "--path", str(planted))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "FileNotFoundError\n"
