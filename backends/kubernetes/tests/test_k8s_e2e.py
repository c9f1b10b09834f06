"""The kubernetes backend end to end on a real cluster, beyond the conformance suite: a pod per
call, type families across pods, resources and an OOM, a timeout enforced by the kubelet, an
image that does not exist, an unschedulable pod, Secrets as env and files, a pod template, and a
debugging TTL with prune. Each test also checks that no pod of its run is left."""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import NAMESPACE, kube_options, pods_of, put_secret

from flyte_core.extend import BaseRuntimeError, Config, Session, TaskTimeoutError, load_file

pytestmark = [pytest.mark.timeout(900)]

TASKS = '''
import os, socket, time
from dataclasses import dataclass
import flyte
import pyarrow as pa
from pydantic import BaseModel
from flyte.io import File, DataFrame

env = flyte.TaskEnvironment(name="kt")
small = flyte.TaskEnvironment(name="small", resources=flyte.Resources(cpu=("250m", "500m"), memory="64Mi"))
huge = flyte.TaskEnvironment(name="huge", resources=flyte.Resources(cpu="500"))
missing = flyte.TaskEnvironment(name="missing", image="flyte-ci/does-not-exist:nope")
secretive = flyte.TaskEnvironment(name="secretive", secrets=[
    flyte.Secret(key="api-token"), flyte.Secret(key="db-pass", group="db", mount="/etc/flyte/secrets")])
lonely = flyte.TaskEnvironment(name="lonely", secrets=[flyte.Secret(key="never-created")])
templated = flyte.TaskEnvironment(name="templated", pod_template=flyte.PodTemplate(
    labels={"team": "data"},
    pod_spec={"nodeSelector": {"kubernetes.io/os": "linux"},
              "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
              "containers": [{"name": "primary", "env": [{"name": "FROM_TEMPLATE", "value": "yes"}]}]}))


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
def no_api_token() -> bool:
    return os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/token")


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
    def read(path):
        try:
            return open(path).read().strip()
        except OSError:
            return "?"
    if os.path.exists("/sys/fs/cgroup/cpu.max"):
        return read("/sys/fs/cgroup/cpu.max").split()[0] + "|" + read("/sys/fs/cgroup/memory.max")
    return read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") + "|" + read("/sys/fs/cgroup/memory/memory.limit_in_bytes")


@small.task
def hog(mb: int) -> int:
    blocks = [bytearray(1024 * 1024) for _ in range(mb)]
    return len(blocks)


@env.task(timeout=3)
def too_slow() -> int:
    time.sleep(120)
    return 1


@env.task
def calls_too_slow() -> int:
    return too_slow()


@missing.task
def nowhere() -> int:
    return 1


@huge.task
def greedy() -> int:
    return 1


@secretive.task
def secrets_seen() -> str:
    token = os.environ.get("API_TOKEN", "")
    with open("/etc/flyte/secrets/db/db-pass") as f:
        pw = f.read()
    return f"{len(token)}:{len(pw)}"


@lonely.task
def needs_missing_secret() -> int:
    return 1


@templated.task
def from_template() -> str:
    return os.environ.get("FROM_TEMPLATE", "no")
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "kt_tasks.py").write_text(TASKS)
    return tmp_path


@pytest.fixture
def session(project: Path, kube: Any) -> Iterator[Session]:
    data = project / "data"
    s = Session(config=Config(), backend="kubernetes", backend_options=kube_options(data), data_url=str(data),
                run_store=str(project / "runs.db"), root_dir=project)
    yield s
    s.close()


@pytest.fixture
def tasks(project: Path) -> Any:
    sys.modules.pop("kt_tasks", None)
    return load_file(project / "kt_tasks.py", project)


def failed_run(session: Session, task: Any, **kwargs: Any) -> BaseRuntimeError:
    with pytest.raises(BaseRuntimeError) as ei:
        session.run(task, **kwargs)
    return ei.value


def test_each_call_runs_in_its_own_pod(session: Session, tasks: Any, kube: Any) -> None:
    import socket

    run = session.run(tasks.hosts)
    names = run.outputs()[0]
    assert len(set(names)) == 3 and socket.gethostname() not in names
    assert all(n.startswith(run.name) for n in names), names  # pod hostnames are pod names
    assert pods_of(kube, run.name) == []
    assert session.run(tasks.no_api_token).outputs()[0] is False  # task pods get no API credentials


def test_type_families_cross_pods(session: Session, tasks: Any) -> None:
    assert session.run(tasks.families, n=5).outputs()[0] == "5/2.5/5/5/5/4"


def test_resources_become_requests_and_limits(session: Session, tasks: Any) -> None:
    cpu, mem = session.run(tasks.limits).outputs()[0].split("|")
    assert cpu == "50000"  # the 500m limit: half of the 100000 us period
    assert mem == str(64 * 1024 * 1024)


def test_oom_names_the_limit(session: Session, tasks: Any, kube: Any) -> None:
    err = failed_run(session, tasks.hog, mb=400)
    assert err.code == "OOMError", str(err)
    assert "exceeded its memory limit of 64Mi" in str(err) and "OOMKilled" in str(err)
    assert pods_of(kube, err.run.name) == []  # type: ignore[attr-defined]


def test_timeout_is_the_pods_active_deadline(session: Session, tasks: Any, kube: Any) -> None:
    start = time.monotonic()
    with pytest.raises(TaskTimeoutError) as ei:
        session.run(tasks.calls_too_slow)
    assert time.monotonic() - start < 60
    assert "DeadlineExceeded" in str(ei.value), str(ei.value)  # the kubelet stopped it, not the controller
    assert pods_of(kube, ei.value.run.name) == []  # type: ignore[attr-defined]


def test_missing_image_names_the_image(session: Session, tasks: Any, kube: Any) -> None:
    err = failed_run(session, tasks.nowhere)
    assert err.code == "ImagePullBackOffError", str(err)
    assert "flyte-ci/does-not-exist:nope" in str(err)
    assert pods_of(kube, err.run.name) == []  # type: ignore[attr-defined]


def test_unschedulable_carries_the_schedulers_message(session: Session, tasks: Any, kube: Any) -> None:
    err = failed_run(session, tasks.greedy)
    assert err.code == "Unschedulable", str(err)
    assert "Insufficient cpu" in str(err)
    assert pods_of(kube, err.run.name) == []  # type: ignore[attr-defined]


@pytest.fixture
def k8s_secrets(kube: Any) -> Iterator[dict[str, str]]:
    from kubernetes import client

    values = {"flyte-api-token": "tok-" + "x" * 20, "flyte-db-db-pass": "pw-" + "y" * 17}
    for name, value in values.items():
        put_secret(kube, name, client.V1Secret(metadata=client.V1ObjectMeta(name=name),
                                               data={"value": base64.b64encode(value.encode()).decode()}))
    yield values
    for name in values:
        kube.delete_namespaced_secret(name, NAMESPACE)


def test_secrets_reach_the_pod_and_nowhere_else(session: Session, tasks: Any, project: Path, kube: Any,
                                                k8s_secrets: dict[str, str]) -> None:
    run = session.run(tasks.secrets_seen)
    assert run.outputs()[0] == "24:20"
    raw = b"".join(p.read_bytes() for p in project.rglob("*") if p.is_file())
    assert b"tok-xxxx" not in raw and b"pw-yyyy" not in raw  # not in the run store, data or logs


def test_missing_secret_says_how_to_create_it(session: Session, tasks: Any) -> None:
    err = failed_run(session, tasks.needs_missing_secret)
    assert err.code == "CreateContainerConfigError", str(err)
    assert f"kubectl create secret generic flyte-never-created -n {NAMESPACE}" in str(err)


def test_pod_template_is_merged(session: Session, tasks: Any, kube: Any) -> None:
    assert session.run(tasks.from_template).outputs()[0] == "yes"


def test_keep_pods_for_debugging_then_prune(project: Path, tasks: Any, kube: Any) -> None:
    from flyte_backend_kubernetes.pods import prune

    data = project / "data"
    s = Session(config=Config(), backend="kubernetes", backend_options=kube_options(data, keep_pods_seconds=2),
                data_url=str(data), run_store=str(project / "runs.db"), root_dir=project)
    try:
        run = s.run(tasks.where)
    finally:
        s.close()
    assert pods_of(kube, run.name) == [run.outputs()[0]]  # kept, finished
    time.sleep(2.5)
    assert run.name in prune(kube, NAMESPACE)
    assert pods_of(kube, run.name) == []
