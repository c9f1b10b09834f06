"""The docker backend end to end, on a real engine: the backend conformance suite, the seed
examples on the CLI, type families across containers, resources, OOM, secrets, abort and cleanup."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, ClassVar

import docker
import docker.errors
import pytest
from click.testing import CliRunner
from conftest import BASE_IMAGE, containers_of
from flyte_backend_docker.labels import CONTROLLER_LABEL, RUN_LABEL, STORE_LABEL

from flyte_core.extend import BaseRuntimeError, Session
from flyte_core.testing import flyte_cli
from flyte_core.testing.backends import BackendSuite

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("docker_client")]


class TestDockerConformance(BackendSuite):
    """The same programs and outcomes as the local backends, each action in a container."""

    backend = "docker"
    backend_options: ClassVar[dict[str, Any]] = {"base_image": BASE_IMAGE, "echo": False}

    def assert_nothing_left(self, run_name: str) -> None:
        super().assert_nothing_left(run_name)
        client = docker.from_env()
        assert containers_of(client, run_name) == [], f"containers of run {run_name} left behind"


TASKS = '''
import os, socket, time
from dataclasses import dataclass
import flyte
import pyarrow as pa
from pydantic import BaseModel
from flyte.io import File, DataFrame

env = flyte.TaskEnvironment(name="dk")
small = flyte.TaskEnvironment(name="small", resources=flyte.Resources(cpu="0.5", memory="64Mi"))
secretive = flyte.TaskEnvironment(name="secretive", secrets=[
    flyte.Secret(key="api-token"), flyte.Secret(key="db-pass", group="db", mount="/etc/flyte/secrets")])


@dataclass
class Point:
    x: int
    y: float


class Order(BaseModel):
    sku: str
    qty: int


@env.task
def where() -> str:
    return socket.gethostname()


@env.task
def hosts() -> list[str]:
    return [socket.gethostname(), where(), where()]


@env.task
def no_engine_access() -> bool:
    return os.path.exists("/var/run/docker.sock")


@env.task
def make(n: int) -> tuple[Point, Order, File, DataFrame, pa.Table]:
    path = "/tmp/hello.txt"
    with open(path, "w") as f:
        f.write("hello " * n)
    table = pa.table({"a": list(range(n)), "b": [str(i) for i in range(n)]})
    return Point(n, n / 2), Order(sku="x", qty=n), File.from_local_sync(path), DataFrame.from_df(table), table


@env.task
def use(p: Point, o: Order, f: File, df: DataFrame, t: pa.Table) -> str:
    with f.open_sync() as fh:
        text = fh.read().decode()
    frame = df.open(pa.Table).all_sync()
    return f"{p.x}/{p.y}/{o.qty}/{text.count('hello')}/{frame.num_rows}/{t.column('b')[-1]}"


@env.task
def families(n: int) -> str:
    return use(*make(n))


@small.task
def limits() -> str:
    def read(path: str) -> str:
        try:
            return open(path).read().strip()
        except OSError:
            return "?"
    if os.path.exists("/sys/fs/cgroup/cpu.max"):  # cgroup v2
        return read("/sys/fs/cgroup/cpu.max").split()[0] + "|" + read("/sys/fs/cgroup/memory.max")
    return read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") + "|" + read("/sys/fs/cgroup/memory/memory.limit_in_bytes")


@small.task
def hog(mb: int) -> int:
    blocks = [bytearray(1024 * 1024) for _ in range(mb)]
    return len(blocks)


@secretive.task
def secrets_seen() -> str:
    token = os.environ.get("API_TOKEN", "")
    with open("/etc/flyte/secrets/db/db-pass") as f:
        pw = f.read()
    return f"{len(token)}:{len(pw)}"


@env.task
def sleeper(s: int) -> int:
    time.sleep(s)
    return s


@env.task
def fan_sleep(n: int) -> list[int]:
    return list(flyte.map(sleeper, [600] * n))


gpu_env = flyte.TaskEnvironment(name="gpu", resources=flyte.Resources(gpu="A100:1"))


@gpu_env.task
def on_gpu() -> int:
    return 1
'''


#: The task module the conftest's ``project``, ``session`` and ``tasks`` fixtures provide.
TASK_MODULE = ("dk_tasks", TASKS)


def test_each_call_runs_in_its_own_container(session: Session, tasks: Any, docker_client: docker.DockerClient) -> None:
    import socket

    run = session.run(tasks.hosts)
    names = run.outputs()[0]
    assert len(set(names)) == 3 and socket.gethostname() not in names
    assert containers_of(docker_client, run.name) == []
    assert session.run(tasks.no_engine_access).outputs()[0] is False


def test_type_families_cross_container_boundaries(session: Session, tasks: Any) -> None:
    assert session.run(tasks.families, n=5).outputs()[0] == "5/2.5/5/5/5/4"


def test_resources_become_container_limits(session: Session, tasks: Any) -> None:
    cpu, mem = session.run(tasks.limits).outputs()[0].split("|")
    assert cpu == "50000"  # half of the 100000 us period
    assert mem == str(64 * 1024 * 1024)


def test_oom_names_the_limit(session: Session, tasks: Any, docker_client: docker.DockerClient) -> None:
    with pytest.raises(BaseRuntimeError) as ei:
        session.run(tasks.hog, mb=400)
    assert ei.value.code == "OOMError"
    assert "exceeded its memory limit of 64Mi" in str(ei.value)
    assert containers_of(docker_client, ei.value.run.name) == []  # type: ignore[attr-defined]


def test_gpu_without_a_gpu_runtime_is_a_clear_error(session: Session, tasks: Any,
                                                    docker_client: docker.DockerClient) -> None:
    if "nvidia" in (docker_client.info().get("Runtimes") or {}):
        pytest.skip("this engine has a GPU runtime")
    no_runtime = r"'gpu.on_gpu' requests GPUs \(Resources\(gpu='A100:1'\)\), but this Docker engine has no GPU runtime"
    with pytest.raises(BaseRuntimeError, match=no_runtime):
        session.run(tasks.on_gpu)


def test_secrets_reach_the_container_and_nowhere_else(session: Session, tasks: Any, project: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_SECRET_API_TOKEN", "tok-" + "x" * 20)
    monkeypatch.setenv("FLYTE_SECRET_DB_DB_PASS", "pw-" + "y" * 17)
    run = session.run(tasks.secrets_seen)
    assert run.outputs()[0] == "24:20"
    raw = b"".join(p.read_bytes() for p in project.rglob("*") if p.is_file())
    assert b"tok-xxxx" not in raw and b"pw-yyyy" not in raw  # not in the run store, data or logs
    assert not list(Path("/dev/shm").glob(f"flyte-secrets-{run.name}-*"))


def test_missing_secret_is_a_clear_error(session: Session, tasks: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLYTE_SECRET_API_TOKEN", raising=False)
    with pytest.raises(Exception, match=r"needs secret 'api-token'.*FLYTE_SECRET_API_TOKEN"):
        session.run(tasks.secrets_seen)


def cli(cwd: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLYTE_HOME": str(cwd / "home"), "FLYTE_DOCKER_BASE_IMAGE": BASE_IMAGE}
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, **kw)


def test_seed_examples_on_the_cli(tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text((ROOT / "examples" / "tasks.py").read_text())
    r = cli(tmp_path, "run", "--backend", "docker", "tasks.py", "pipeline", "--x", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "16\n"
    r = cli(tmp_path, "run", "--backend", "docker", "tasks.py", "greet", "--name", "World")
    assert r.stdout == "Hello, World!\n"
    shown = json.loads(cli(tmp_path, "runs", "list", "--json").stdout)
    assert {x["backend"] for x in shown} == {"docker"}


def test_ctrl_c_stops_every_container(project: Path, docker_client: docker.DockerClient) -> None:
    stopme = f"stopme-{uuid.uuid4().hex[:8]}"  # counts only this run's containers, whatever else runs
    env = {**os.environ, "FLYTE_HOME": str(project / "home"), "FLYTE_DOCKER_BASE_IMAGE": BASE_IMAGE}
    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--backend", "docker",
                             "--name", stopme, "dk_tasks.py", "fan_sleep", "--n", "2"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while len(containers_of(docker_client, stopme)) < 3 and time.time() < deadline:
        time.sleep(0.2)
    if len(containers_of(docker_client, stopme)) != 3:
        proc.kill()
        pytest.fail(f"run {stopme} did not start its 3 containers: {proc.communicate()}")
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=300)  # a guard against a hang, not a timing
    assert proc.returncode == 130
    assert containers_of(docker_client, stopme) == []
    shown = json.loads(cli(project, "runs", "show", stopme, "--json").stdout)
    assert {a["phase"] for a in shown["actions"]} == {"aborted"}


def test_prune_removes_only_this_stores_leftovers_of_dead_runs(docker_client: docker.DockerClient,
                                                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A leftover's controller is a dead process on a host name only this test uses, and the prune runs
    # in this process as that host: pruners elsewhere on the engine take that controller for another
    # machine's (still alive for all they know), and this prune takes theirs for another machine's.
    host = f"prune-test-{uuid.uuid4().hex[:8]}"
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    dead = subprocess.Popen(["true"])
    dead.wait()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(socket, "gethostname", lambda: host)
    ours = Session().store_key
    # Two runs named alike, recorded in two run stores (two projects): a plain prune is this store's only.
    made = {store: docker_client.api.create_container(BASE_IMAGE, command=["sleep", "600"], labels={
        RUN_LABEL: ghost, CONTROLLER_LABEL: f"{dead.pid}@{host}", STORE_LABEL: store})["Id"]
        for store in (ours, "another-store")}
    try:
        for cid in made.values():
            docker_client.api.start(cid)
        r = CliRunner().invoke(flyte_cli(), ["docker", "prune"])
        assert r.exit_code == 0, r.output
        assert r.output == f"Removed containers of 1 run(s): {ghost}.\n"
        assert [c["Id"] for c in containers_of(docker_client, ghost)] == [made["another-store"]]
        r = CliRunner().invoke(flyte_cli(), ["docker", "prune", "--any-store"])
        assert (r.exit_code, r.output) == (0, f"Removed containers of 1 run(s): {ghost}.\n")
        assert containers_of(docker_client, ghost) == []
    finally:
        for cid in made.values():
            with contextlib.suppress(docker.errors.NotFound):
                docker_client.api.remove_container(cid, force=True)
