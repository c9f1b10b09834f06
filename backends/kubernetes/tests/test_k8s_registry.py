"""The ``registry`` option for real: task images pushed to a registry and pods pulling them from it.

The registry is Debian's ``docker-registry`` (distribution 2.8), started by a fixture on a free
localhost port with its storage in the pytest temporary folder, and stopped afterwards. The
Docker engine treats 127.0.0.0/8 registries as insecure (plain HTTP) by default, and the kubelet
of the CI cluster pulls through that same engine, so ``localhost:PORT/flyte`` works for both the
push and the pods' pulls. A cluster whose nodes have their own runtime (kind, k3d) cannot reach
this machine's localhost; there, run the whole suite through their registry with
``FLYTE_K8S_TEST_REGISTRY`` instead (see the README).

Without the ``docker-registry`` binary the test is skipped, except under CI, where it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE_IMAGE, NAMESPACE, kube_options, pods_of, unavailable

import flyte
from flyte_core.config import Config
from flyte_core.errors import FlyteUsageError
from flyte_core.loader import load_file
from flyte_core.session import Session

pytestmark = [pytest.mark.timeout(900)]

#: The registry binary (``apt-get install docker-registry``); ``FLYTE_TEST_DOCKER_REGISTRY`` names another.
REGISTRY_BIN = (
    os.environ.get("FLYTE_TEST_DOCKER_REGISTRY") or shutil.which("docker-registry") or "/usr/bin/docker-registry"
)

TASKS = """
import flyte

env = flyte.TaskEnvironment(name="regt")


@env.task
def one() -> int:
    return 1


@env.task
def two() -> int:
    return one() + one()
"""

CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""

# An access log line (combined log format): "METHOD /path HTTP/1.1" status.
_ACCESS = re.compile(r'"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/[0-9.]+" (\d{3})')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Registry:
    """A running ``docker-registry serve`` on ``127.0.0.1:port``, its access log in ``log``."""

    def __init__(self, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.port, self.proc, self.log = port, proc, log
        self.host = f"localhost:{port}"

    def get(self, path: str, method: str = "GET") -> tuple[dict[str, str], Any]:
        """Headers and decoded JSON body (None for HEAD) of an HTTP request to the registry."""
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
            return dict(resp.headers), (json.loads(body) if body else None)

    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request served so far, in order."""
        return [
            (m.group(1), m.group(2), int(m.group(3))) for m in _ACCESS.finditer(self.log.read_text(errors="replace"))
        ]


def _start(tmp: Path) -> Registry:
    """Start the registry on a free port (retrying when the port was taken meanwhile)."""
    last = ""
    (tmp / "storage").mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        port = free_port()
        config = tmp / f"registry-{attempt}.yml"
        config.write_text(CONFIG.format(storage=tmp / "storage", port=port))
        log = tmp / f"registry-{attempt}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [REGISTRY_BIN, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        reg = Registry(port, proc, log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError):
                reg.get("/v2/")
                return reg
            time.sleep(0.2)
        _stop(proc)
        last = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"docker-registry did not start; its last output:\n{last}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # the registry drains connections for a few seconds on SIGTERM
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry on a free localhost port with its storage under ``tmp_path``; stopped after the test,
    and the tags the push left in the local engine removed."""
    if not os.path.exists(REGISTRY_BIN):
        unavailable(
            f"the docker-registry binary is missing ({REGISTRY_BIN}); install it with "
            "`apt-get install docker-registry` (Debian's distribution 2.8) or set FLYTE_TEST_DOCKER_REGISTRY"
        )
    reg = _start(tmp_path / "registry")
    try:
        yield reg
    finally:
        _stop(reg.proc)
        with contextlib.suppress(Exception):
            import docker

            engine = docker.from_env()
            for image in engine.images.list():
                for tag in image.tags:
                    if tag.startswith(f"{reg.host}/"):
                        engine.images.remove(tag, noprune=True)  # untag only: the local tag keeps the image


@pytest.fixture
def engine_node(kube: Any) -> None:
    """The cluster's node pulls through this machine's Docker engine (else it cannot see localhost:PORT)."""
    try:
        machine_id = Path("/etc/machine-id").read_text().strip()
    except OSError:
        machine_id = ""
    nodes = kube.list_node().items
    if not any(
        n.status.node_info.container_runtime_version.startswith("docker://")
        and n.status.node_info.machine_id == machine_id
        for n in nodes
    ):
        unavailable(
            "the cluster's nodes do not pull through this machine's Docker engine, so they cannot reach a "
            "registry on this machine's localhost; on kind/k3d run the suite with FLYTE_K8S_TEST_REGISTRY"
        )


class PodRecorder:
    """Every task pod of the test namespace as the API server reports it, from a watch started before
    the run (resumed from a listed resource version, so no pod created after ``start`` is missed)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.pods: dict[str, Any] = {}  # name -> the last V1Pod seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> PodRecorder:
        from flyte_backend_kubernetes.names import RUN_LABEL

        self._selector = RUN_LABEL
        self._rv = self.api.list_namespaced_pod(NAMESPACE, label_selector=RUN_LABEL).metadata.resource_version
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        from kubernetes import watch

        while not self._stop.is_set():
            w = watch.Watch()
            for ev in w.stream(
                self.api.list_namespaced_pod,
                NAMESPACE,
                label_selector=self._selector,
                resource_version=self._rv,
                timeout_seconds=2,
            ):
                pod = ev["object"]
                self._rv = pod.metadata.resource_version
                self.pods[pod.metadata.name] = pod
                if self._stop.is_set():
                    w.stop()

    def of_run(self, run: str) -> list[Any]:
        from flyte_backend_kubernetes.names import RUN_LABEL

        return [p for p in self.pods.values() if (p.metadata.labels or {}).get(RUN_LABEL) == run]


def test_images_are_pushed_and_pods_pull_them(tmp_path: Path, kube: Any, engine_node: None, registry: Registry) -> None:
    (tmp_path / "reg_tasks.py").write_text(TASKS)
    sys.modules.pop("reg_tasks", None)
    tasks = load_file(tmp_path / "reg_tasks.py", tmp_path)
    data = tmp_path / "data"
    prefix = f"{registry.host}/flyte"
    s = Session(
        config=Config(),
        backend="kubernetes",
        data_url=str(data),
        run_store=str(tmp_path / "runs.db"),
        root_dir=tmp_path,
        backend_options=kube_options(data, registry=prefix, image_pull_policy="Always"),
    )
    try:
        with PodRecorder(kube) as recorder:
            run = s.run(tasks.two)
            deadline = time.monotonic() + 30  # the watch may trail the run's end by an event or two
            while time.monotonic() < deadline and not all(
                p.metadata.deletion_timestamp for p in recorder.of_run(run.name)
            ):
                time.sleep(0.2)
    finally:
        s.close()

    # The run succeeded, every call in its own pod.
    assert run.phase == flyte.ActionPhase.SUCCEEDED, run.phase
    assert run.outputs()[0] == 2
    pods = recorder.of_run(run.name)
    assert len(pods) == 3, sorted(p.metadata.name for p in pods)

    # The registry holds the image: its catalog and the repository's tags list.
    _, catalog = registry.get("/v2/_catalog")
    assert catalog["repositories"] == ["flyte/flyte"], catalog
    _, tags = registry.get("/v2/flyte/flyte/tags/list")
    assert len(tags["tags"]) == 1, tags
    ref = f"{prefix}/flyte:{tags['tags'][0]}"
    headers, _ = registry.get(f"/v2/flyte/flyte/manifests/{tags['tags'][0]}", method="HEAD")
    digest = headers["Docker-Content-Digest"]

    # Every pod ran that reference, pulled with the policy asked for; the container's image id is
    # the registry's digest of it (what the kubelet resolved the pull to).
    for pod in pods:
        container = pod.spec.containers[0]
        assert (container.image, container.image_pull_policy) == (ref, "Always"), pod.metadata.name
        statuses = pod.status.container_statuses or []
        assert statuses and statuses[0].image_id.endswith(f"{prefix}/flyte@{digest}"), statuses

    # The kubelet pulled from the registry: after the push (the manifest PUT), one manifest
    # request of the tag per pod (imagePullPolicy Always resolves the tag on every start).
    served = registry.requests()
    manifest = f"/v2/flyte/flyte/manifests/{tags['tags'][0]}"
    put = [i for i, (method, path, status) in enumerate(served) if method == "PUT" and path == manifest]
    assert put and served[put[0]][2] == 201, served
    pulls = [r for r in served[put[0] + 1 :] if r[0] in ("HEAD", "GET") and r[1] == manifest and r[2] == 200]
    assert len(pulls) >= len(pods), served[put[0] :]
    assert pods_of(kube, run.name) == []


# --- the push's failures, on the real engine (no cluster needed) ----------------------------------


class _Prebuilt:
    """An image builder whose every image is the (local) base image: the push is what is tested."""

    def ensure(self, image: Any) -> str:
        return BASE_IMAGE


@pytest.fixture
def engine() -> Iterator[Any]:
    try:
        import docker

        client = docker.from_env()
        client.images.get(BASE_IMAGE)
    except Exception as e:
        unavailable(
            f"no Docker engine with {BASE_IMAGE} ({type(e).__name__}: {e}); run /work/shared/tools/docker-up.sh"
        )
    before = {t for i in client.images.list() for t in i.tags}
    yield client
    for image in client.images.list():
        for tag in image.tags:
            if tag not in before and tag.startswith("localhost:"):
                client.images.remove(tag, noprune=True)


def test_an_unreachable_registry_is_a_usage_error_naming_it(engine: Any) -> None:
    from flyte_backend_kubernetes.images import PodImages

    from flyte_core.image import Image

    port = free_port()  # nothing listens there
    images = PodImages(_Prebuilt(), engine, f"localhost:{port}/flyte")
    with pytest.raises(FlyteUsageError) as ei:
        images.ensure(Image.from_debian_base())
    assert f"localhost:{port}/flyte/python:3.11-bookworm" in str(ei.value)
    assert "connection refused" in str(ei.value) and "backends.kubernetes.registry" in str(ei.value)


def test_an_invalid_registry_is_a_usage_error_not_an_engine_traceback(engine: Any) -> None:
    from flyte_backend_kubernetes.images import PodImages

    from flyte_core.image import Image

    images = PodImages(_Prebuilt(), engine, "http://localhost:5000/flyte")  # a URL, not host:port/prefix
    with pytest.raises(FlyteUsageError) as ei:
        images.ensure(Image.from_debian_base())
    assert "invalid reference format" in str(ei.value) and "host:port/prefix" in str(ei.value)
