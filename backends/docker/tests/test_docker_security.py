"""Task containers on a real engine are confined (docs/security.md): not root, no capabilities,
no new privileges, a read-only root filesystem; they see their own run's data, not other runs', and
cannot write the cache or the code bundle; an environment that opted out runs as root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from conftest import docker_session

from flyte_core.extend import Session

pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("docker_client")]

TASKS = '''
import os
import flyte
from flyte.io import File

env = flyte.TaskEnvironment(name="confined")
pool = flyte.TaskEnvironment(name="pooled", reusable=flyte.ReusePolicy(replicas=1, idle_ttl=60))
free = flyte.TaskEnvironment(name="free")


def attempt_write(folder: str) -> str:
    try:
        with open(os.path.join(folder, "probe.txt"), "w") as f:
            f.write("x")
        return "written"
    except OSError as e:
        return type(e).__name__


def status(field: str) -> str:
    with open("/proc/self/status") as f:
        return next(line.split()[1] for line in f if line.startswith(field + ":"))


def report() -> dict[str, str]:
    return {"uid": str(os.getuid()), "gid": str(os.getgid()), "CapEff": status("CapEff"),
            "NoNewPrivs": status("NoNewPrivs"), "/usr": attempt_write("/usr"), "/": attempt_write("/"),
            "/tmp": attempt_write("/tmp"), "home": os.path.expanduser("~")}


@env.task
def probe() -> dict[str, str]:
    return report()


@pool.task
def pooled_probe() -> dict[str, str]:
    return report()


@free.task
def free_probe() -> dict[str, str]:
    return report()


@env.task
def write_file(text: str) -> File:
    with open("/tmp/out.txt", "w") as f:
        f.write(text)
    return File.from_local_sync("/tmp/out.txt")


@env.task
def read_path(path: str) -> str:
    try:
        with open(path) as f:
            return "read:" + f.read()
    except OSError as e:
        return type(e).__name__


@env.task
def append_to(path: str) -> str:
    try:
        with open(path, "ab") as f:
            f.write(b"tampered")
        return "written"
    except OSError as e:
        return type(e).__name__


@env.task
def read_file(f: File) -> str:
    with f.open_sync() as fh:
        return fh.read().decode()


@pool.task
def pooled_big(n: int) -> str:
    return "v" * n  # offloaded to its attempt's data folder (over 256 KiB)


@env.task
def fresh_big(n: int) -> str:
    return "f" * n


@pool.task
def tamper() -> dict[str, str]:
    """On the warm worker that ran pooled_big: try to change every other action's files of the run."""
    ctx = flyte.ctx()
    run_dir = ctx.run_base_dir
    # Its own action folder is lent to it when it asks for it (ctx.output_path), not before.
    seen = {"own action folder, unasked": attempt_write(os.path.join(run_dir, ctx.action.name)),
            "own action folder": attempt_write(ctx.output_path)}
    for top, dirs, files in os.walk(run_dir):  # links (this attempt's own folders) are not followed
        dirs[:] = [d for d in dirs if d not in (".pool", "raw")]  # its own folder; shared raw data
        seen[top] = attempt_write(top)
        for name in files:
            try:
                with open(os.path.join(top, name), "ab") as f:
                    f.write(b"tampered")
                seen[os.path.join(top, name)] = "written"
            except OSError as e:
                seen[os.path.join(top, name)] = type(e).__name__
    return seen


@env.task
def outputs_then_tamper(n: int) -> dict[str, str]:
    a, b = pooled_big(n), fresh_big(n)
    return {**tamper(), "sizes": f"{len(a)},{len(b)}"}


@env.task(cache="auto")
def cached_file(text: str) -> File:
    return write_file(text)


@env.task
def via_cache(text: str) -> str:
    return read_file(cached_file(text))
'''


#: The task module the conftest's ``project``, ``session`` and ``tasks`` fixtures provide.
TASK_MODULE = ("sec_tasks", TASKS)


def expected_user() -> str:
    """``user: auto``: the driver's own uid, or 65532 when the driver is root."""
    return str(os.geteuid() or 65532)


def assert_confined(seen: dict[str, str]) -> None:
    assert seen["uid"] == expected_user() and seen["uid"] != "0"
    assert int(seen["CapEff"], 16) == 0, f"capabilities left: {seen['CapEff']}"
    assert seen["NoNewPrivs"] == "1"
    assert seen["/usr"] != "written" and seen["/"] != "written"
    assert seen["/tmp"] == "written" and seen["home"] == "/tmp"


def test_a_task_runs_unprivileged_on_a_read_only_root(session: Session, tasks: Any) -> None:
    assert_confined(session.run(tasks.probe).outputs()[0])


def test_a_reusable_worker_is_confined_too(session: Session, tasks: Any) -> None:
    assert_confined(session.run(tasks.pooled_probe).outputs()[0])


def test_an_unrestricted_environment_runs_as_root(project: Path, tasks: Any) -> None:
    s = docker_session(project, security={"unrestricted_environments": ["free"]})
    try:
        seen = s.run(tasks.free_probe).outputs()[0]
        confined = s.run(tasks.probe).outputs()[0]  # other environments stay confined
    finally:
        s.close()
    assert seen["uid"] == "0" and seen["/usr"] == "written" and int(seen["CapEff"], 16) != 0
    assert_confined(confined)


def test_another_runs_outputs_are_out_of_reach(session: Session, tasks: Any, project: Path) -> None:
    first = session.run(tasks.write_file, "first run's secret").outputs()[0]
    path = first.path
    assert path.startswith(str(project / "data" / "runs")) and Path(path).read_text() == "first run's secret"
    # A second run's task that knows the path cannot open it: the first run's folder is not mounted.
    assert session.run(tasks.read_path, path).outputs()[0] == "FileNotFoundError"
    assert session.run(tasks.append_to, path).outputs()[0] != "written"
    assert Path(path).read_text() == "first run's secret"
    # Handing it over as a value makes exactly that file readable (imported into the second run).
    assert session.run(tasks.read_file, first).outputs()[0] == "first run's secret"


def test_a_cache_hit_from_another_run_reaches_its_caller(session: Session, tasks: Any) -> None:
    assert session.run(tasks.via_cache, "cached").outputs()[0] == "cached"
    # The child is now a cache hit whose File lives in the first run's folder.
    assert session.run(tasks.via_cache, "cached").outputs()[0] == "cached"


def test_the_cache_and_the_code_bundle_are_read_only(session: Session, tasks: Any, project: Path) -> None:
    session.run(tasks.cached_file, "x")
    entries = list((project / "data" / "cache").rglob("*.json"))
    bundles = list((project / "data" / "bundles").glob("*.tar.gz"))
    assert entries and bundles
    before = {p: p.read_bytes() for p in [*entries, *bundles]}
    for path in before:
        assert session.run(tasks.append_to, str(path)).outputs()[0] != "written"
    assert {p: p.read_bytes() for p in before} == before


def test_a_reused_worker_cannot_change_other_actions_outputs(session: Session, tasks: Any, project: Path) -> None:
    run = session.run(tasks.outputs_then_tamper, 300_000)
    seen = run.outputs()[0]
    # Both outputs were offloaded, and reach the caller after the warm worker's next attempt.
    assert seen.pop("sizes") == "300000,300000"
    assert seen.pop("own action folder") == "written"
    assert seen.pop("own action folder, unasked") != "written"
    run_dir = project / "data" / "runs" / run.name
    offloaded = [p for p in seen if p.startswith(str(run_dir / "data") + "/") and p.endswith(".json")]
    assert len(offloaded) >= 2, seen  # the warm worker's earlier output and the fresh container's
    assert not [p for p, how in seen.items() if how == "written"], seen
    tampered = [p for p in run_dir.rglob("*") if p.is_file() and b"tampered" in p.read_bytes()]
    assert tampered == []
    assert not (run_dir / ".pool").exists()  # the worker's own folder went with it
