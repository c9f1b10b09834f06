"""Runs whose data store is an object store (s3://), on a real cluster: pods reach the data over
the network with fsspec (s3fs added to their images), nested calls reach the controller over TCP,
and the durable driver's run store comes back to this machine as published copies.

The object store is moto's S3 server (``moto_server``, a real HTTP server speaking the S3 API),
started by a fixture on this machine and reached by pods at the node's address: the CI cluster's
node is this machine (its kubelet runs on the local Docker engine), so the address both sides
use is the node's InternalIP. A cluster whose node is another machine (kind, k3d) cannot reach
it; there these tests skip with that reason (and fail under CI, where the node is local).
Credentials and the endpoint reach pods through the Kubernetes Secret named by ``data_secret``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BASE_IMAGE, NAMESPACE, pods_of, put_secret, unavailable
from test_k8s_cli import SLEEPY
from test_k8s_durable import all_pods, wait_for

pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("kube")]

BUCKET = "flyte-e2e"
SECRET = "flyte-e2e-s3"

TASKS = '''
import flyte
from flyte.io import File

env = flyte.TaskEnvironment(name="remote")


@env.task
def write(text: str) -> File:
    path = "note.txt"
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {len(text)} characters")
    return File.from_local_sync(path)


@env.task
def read(f: File) -> str:
    with f.open_sync("rb") as fh:
        return fh.read().decode()


@env.task
def middle(text: str) -> str:
    return read(write(text)).upper()


@env.task
def top(text: str) -> str:
    return middle(text) + "!"

'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def _node_ip(kube: Any) -> str:
    node = kube.list_node().items[0]
    return next(a.address for a in node.status.addresses if a.type == "InternalIP")


@pytest.fixture(scope="module")
def s3(kube: Any) -> Iterator[dict[str, str]]:
    """A moto S3 server reachable from this machine and from pods; yields the environment
    (credentials, endpoint) the client side uses, and creates the pods' Secret from it."""
    server = shutil.which("moto_server")
    if server is None:
        unavailable("moto_server is not installed (pip install 'moto[server]')")
    host, port = _node_ip(kube), _free_port()
    proc = subprocess.Popen([server, "-H", "0.0.0.0", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    endpoint = f"http://{host}:{port}"
    env = {"AWS_ACCESS_KEY_ID": "flyte-e2e", "AWS_SECRET_ACCESS_KEY": "flyte-e2e-secret",
           "AWS_DEFAULT_REGION": "us-east-1", "FSSPEC_S3_ENDPOINT_URL": endpoint}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from kubernetes import client

    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=2).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    unavailable(f"the S3 server at {endpoint} (the node's address) is not reachable from this "
                                "machine; the remote-store tests need the node to be this machine")
                time.sleep(0.2)
        put_secret(kube, SECRET, client.V1Secret(metadata=client.V1ObjectMeta(name=SECRET), string_data=env))
        s3fs(env).mkdir(BUCKET)
        yield env
    finally:
        proc.terminate()
        proc.wait(10)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        with contextlib.suppress(client.ApiException):
            kube.delete_namespaced_secret(SECRET, NAMESPACE)


def s3fs(env: dict[str, str]) -> Any:
    """A filesystem on the test's S3 server (fsspec read FSSPEC_* variables when first imported,
    perhaps before the fixture set them, so the endpoint is passed explicitly)."""
    import fsspec

    return fsspec.filesystem("s3", endpoint_url=env["FSSPEC_S3_ENDPOINT_URL"], key=env["AWS_ACCESS_KEY_ID"],
                             secret=env["AWS_SECRET_ACCESS_KEY"], skip_instance_cache=True)


def project(tmp_path: Path, **options: Any) -> Path:
    (tmp_path / ".flyte").mkdir(parents=True)
    (tmp_path / ".flyte" / "config.yaml").write_text(yaml.safe_dump({
        "backend": "kubernetes",
        "storage": {"data": f"s3://{BUCKET}/{tmp_path.name}", "runs": str(tmp_path / "runs.db")},
        "backends": {"kubernetes": {"namespace": NAMESPACE, "data_secret": SECRET, "base_image": BASE_IMAGE,
                                    "image_pull_grace": 5, "unschedulable_grace": 5, "start_grace": 10,
                                    **options}},
    }))
    (tmp_path / "remote.py").write_text(TASKS)
    (tmp_path / "sleepy.py").write_text(SLEEPY)
    return tmp_path


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLYTE_HOME": str(cwd / "home")}
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_a_durable_run_on_an_object_store(tmp_path: Path, kube: Any, s3: dict[str, str]) -> None:
    proj = project(tmp_path)
    r = cli(proj, "run", "--name", "s3a", "remote.py", "top", "--text", "hello")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "HELLO!\n"
    assert "wrote 5 characters" in r.stderr  # the tasks' logs, followed from the published copies
    shown = json.loads(cli(proj, "runs", "show", "s3a", "--json").stdout)
    assert shown["run"]["phase"] == "succeeded"
    assert [a["task"] for a in shown["actions"]] == ["remote.top", "remote.middle", "remote.write", "remote.read"]
    # The File went through the object store, not through any folder of this machine.
    fs = s3fs(s3)
    assert fs.find(f"{BUCKET}/{proj.name}/runs/s3a"), "nothing of the run is in the object store"
    assert not (proj / "home" / "data").exists()
    wait_for(lambda: all_pods(kube, "s3a") == [], "every pod of the run to go", timeout=300)


def test_detach_reattach_and_abort_on_an_object_store(tmp_path: Path, kube: Any, s3: dict[str, str]) -> None:
    proj = project(tmp_path)
    r = cli(proj, "run", "--detach", "--name", "s3b", "sleepy.py", "fan_sleep", "--n", "2")
    assert r.returncode == 0 and r.stdout == "s3b\n", r.stderr
    wait_for(lambda: len(all_pods(kube, "s3b")) == 4, "the driver, the parent and two children", timeout=300)
    wait_for(lambda: json.loads(cli(proj, "runs", "show", "s3b", "--json").stdout)["run"]["phase"] == "running",
             "the run's records to arrive here")
    r = cli(proj, "runs", "abort", "s3b")
    assert r.returncode == 0 and "aborted" in r.stdout, r.stdout + r.stderr
    shown = json.loads(cli(proj, "runs", "show", "s3b", "--json").stdout)
    assert shown["run"]["phase"] == "aborted"
    assert {a["phase"] for a in shown["actions"]} == {"aborted"}
    wait_for(lambda: all_pods(kube, "s3b") == [], "every pod of the run to go", timeout=300)


def test_a_controller_outside_the_cluster_needs_a_channel_address(tmp_path: Path, kube: Any,
                                                                    s3: dict[str, str]) -> None:
    proj = project(tmp_path)
    r = cli(proj, "run", "--local-controller", "remote.py", "top", "--text", "x")
    assert r.returncode == 2
    assert "channel_host" in r.stderr and "flyte run --backend kubernetes" in r.stderr, r.stderr
    # Named: this machine's controller serves nested calls over TCP at an address pods reach.
    proj2 = project(tmp_path / "with-channel", channel_host=_node_ip(kube))
    r = cli(proj2, "run", "--local-controller", "--name", "s3c", "remote.py", "top", "--text", "abc")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ABC!\n"
    assert pods_of(kube, "s3c") == []
