"""The ``registry`` option for real: task images pushed to a registry and pods pulling them from it.

The registry is Debian's ``docker-registry`` (distribution 2.8), started by a fixture on a free
localhost port with its storage in the pytest temporary folder, and stopped afterwards. The
Docker engine treats 127.0.0.0/8 registries as insecure (plain HTTP) by default, and the kubelet
of the CI cluster pulls through that same engine, so ``localhost:PORT/flyte`` works for both the
push and the pods' pulls. A cluster whose nodes have their own runtime (kind, k3d) cannot reach
this machine's localhost; there, run the whole suite through their registry with
``FLYTE_K8S_TEST_REGISTRY`` instead (see the README).

A second registry requires a login (htpasswd, a bcrypt hash made by the test): this machine's Docker
client logs in as ``docker login`` does, into a config folder of the test's own (``DOCKER_CONFIG``),
the push authenticates with it, and pods pull with a ``kubernetes.io/dockerconfigjson`` Secret named
by the environment image's ``registry_secret``; the same image without it cannot be pulled.

Without the ``docker-registry`` binary the tests are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE_IMAGE, NAMESPACE, kube_options, pods_of, put_secret, unavailable

import flyte
from flyte_core.extend import BaseRuntimeError, Config, FlyteUsageError, Session, load_file

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

# Basic authentication against a bcrypt htpasswd file (distribution's htpasswd auth).
AUTH = """\
auth:
  htpasswd:
    realm: flyte-test
    path: {htpasswd}
"""

#: The Secret (``kubernetes.io/dockerconfigjson``) pods pull the private registry's image with.
PULL_SECRET = "flyte-e2e-regcred"

# An access log line (combined log format): "METHOD /path HTTP/1.1" status.
_ACCESS = re.compile(r'"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/[0-9.]+" (\d{3})')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Registry:
    """A running ``docker-registry serve`` on ``127.0.0.1:port``, its access log in ``log``;
    ``auth`` is the (user, password) it requires, if any."""

    def __init__(
        self, port: int, proc: subprocess.Popen[bytes], log: Path, auth: tuple[str, str] | None = None
    ) -> None:
        self.port, self.proc, self.log, self.auth = port, proc, log, auth
        self.host = f"localhost:{port}"

    def get(self, path: str, method: str = "GET", anonymous: bool = False) -> tuple[dict[str, str], Any]:
        """Headers and decoded JSON body (None for HEAD) of an HTTP request to the registry (with
        its credentials, unless ``anonymous``)."""
        headers = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
        if self.auth and not anonymous:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(self.auth).encode()).decode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
            return dict(resp.headers), (json.loads(body) if body else None)

    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request served so far, in order."""
        return [
            (m.group(1), m.group(2), int(m.group(3))) for m in _ACCESS.finditer(self.log.read_text(errors="replace"))
        ]


def _start(tmp: Path, auth: tuple[str, str] | None = None) -> Registry:
    """Start the registry on a free port (retrying when the port was taken meanwhile); with
    ``auth``, it requires that user and password."""
    last = ""
    (tmp / "storage").mkdir(parents=True, exist_ok=True)
    extra = ""
    if auth:
        import bcrypt

        user, password = auth
        (tmp / "htpasswd").write_text(f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}\n")
        extra = AUTH.format(htpasswd=tmp / "htpasswd")
    for attempt in range(3):
        port = free_port()
        config = tmp / f"registry-{attempt}.yml"
        config.write_text(CONFIG.format(storage=tmp / "storage", port=port) + extra)
        log = tmp / f"registry-{attempt}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [REGISTRY_BIN, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        reg = Registry(port, proc, log, auth)
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


@contextlib.contextmanager
def _running(tmp: Path, auth: tuple[str, str] | None = None) -> Iterator[Registry]:
    """A registry on a free localhost port with its storage under ``tmp``; stopped afterwards, and
    the tags the push left in the local engine removed."""
    if not os.path.exists(REGISTRY_BIN):
        unavailable(
            f"the docker-registry binary is missing ({REGISTRY_BIN}); install it with "
            "`apt-get install docker-registry` (Debian's distribution 2.8) or set FLYTE_TEST_DOCKER_REGISTRY"
        )
    reg = _start(tmp, auth)
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
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry anyone may push to and pull from (see :func:`_running`)."""
    with _running(tmp_path / "registry") as reg:
        yield reg


@pytest.fixture
def private_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry that requires a login (a random password) for every request (see :func:`_running`)."""
    with _running(tmp_path / "private-registry", ("flyte", secrets.token_urlsafe(16))) as reg:
        yield reg


@pytest.fixture
def docker_login(private_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This machine's Docker client logged in to ``private_registry`` with ``docker login``, into a
    config folder of the test's own that ``DOCKER_CONFIG`` names for the test (the docker SDK, and so
    the backend's push, reads it); ~/.docker is never touched, so the kubelet (which reads root's
    ~/.docker/config.json) cannot pull with it. Logged out, and the folder checked, afterwards."""
    cli = shutil.which("docker")
    if cli is None:
        unavailable("the docker command line is missing (it logs in to the test registry)")
    assert cli is not None and private_registry.auth is not None
    config = tmp_path / "docker-config"
    config.mkdir()
    user, password = private_registry.auth
    subprocess.run(
        [cli, "--config", str(config), "login", private_registry.host, "--username", user, "--password-stdin"],
        input=password.encode(),
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert private_registry.host in json.loads((config / "config.json").read_text())["auths"]
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    try:
        yield config
    finally:
        subprocess.run(
            [cli, "--config", str(config), "logout", private_registry.host], check=True, capture_output=True, timeout=60
        )
        assert private_registry.host not in json.loads((config / "config.json").read_text()).get("auths", {})


@pytest.fixture
def pull_secret(kube: Any, private_registry: Registry) -> Iterator[str]:
    """The ``kubernetes.io/dockerconfigjson`` Secret ``PULL_SECRET`` holding the registry's login, in
    the test namespace (as ``kubectl create secret docker-registry`` makes it); deleted afterwards."""
    from kubernetes import client

    assert private_registry.auth is not None
    user, password = private_registry.auth
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    config = {"auths": {private_registry.host: {"username": user, "password": password, "auth": token}}}
    body = client.V1Secret(
        metadata=client.V1ObjectMeta(name=PULL_SECRET),
        type="kubernetes.io/dockerconfigjson",
        data={".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
    )
    put_secret(kube, PULL_SECRET, body)
    try:
        yield PULL_SECRET
    finally:
        with contextlib.suppress(client.ApiException):
            kube.delete_namespaced_secret(PULL_SECRET, NAMESPACE)


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
    the run (resumed from a listed resource version, so no pod created after ``start`` is missed).
    A pod may be deleted (its outcome collected) before the API shows it running, so the image ids
    its containers reported are gathered from every event, up to its deletion."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.pods: dict[str, Any] = {}  # name -> the last V1Pod seen
        self.image_ids: dict[str, set[str]] = {}  # name -> every image id its containers reported
        self.gone: set[str] = set()  # names of the pods whose deletion was seen
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
                name = pod.metadata.name
                self._rv = pod.metadata.resource_version
                self.pods[name] = pod
                for status in (pod.status.container_statuses if pod.status else None) or []:
                    if status.image_id:
                        self.image_ids.setdefault(name, set()).add(status.image_id)
                if ev["type"] == "DELETED":
                    self.gone.add(name)
                if self._stop.is_set():
                    w.stop()

    def of_run(self, run: str) -> list[Any]:
        from flyte_backend_kubernetes.names import RUN_LABEL

        return [p for p in self.pods.values() if (p.metadata.labels or {}).get(RUN_LABEL) == run]

    def wait_gone(self, *runs: str, timeout: float = 60) -> None:
        """Wait until the deletion of every pod of ``runs`` was seen (the watch trails a run's end)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(
            p.metadata.name in self.gone for run in runs for p in self.of_run(run)
        ):
            time.sleep(0.2)


def assert_image_ids(recorder: PodRecorder, pods: list[Any], pulled: str) -> None:
    """Every image id the containers of ``pods`` reported is ``pulled`` (``repo@digest``), and some
    reported one: a pod whose outcome is collected within a second or so may be deleted before the
    kubelet tells the API that its container ran."""
    reported = {p.metadata.name: recorder.image_ids.get(p.metadata.name, set()) for p in pods}
    assert any(reported.values()), reported
    assert all(i.endswith(pulled) for ids in reported.values() for i in ids), (pulled, reported)


def run_two(tmp_path: Path, kube: Any, module: str, text: str, **options: Any) -> tuple[Any, PodRecorder]:
    """Run ``two`` of the task module ``text`` (saved as ``module``) with the backend ``options``;
    the run, and the watch that saw its pods until each was deleted."""
    project = tmp_path / "project"  # the code bundle's root: not the registry's storage or login
    project.mkdir()
    (project / f"{module}.py").write_text(text)
    sys.modules.pop(module, None)
    tasks = load_file(project / f"{module}.py", project)
    data = tmp_path / "data"
    s = Session(config=Config(), backend="kubernetes", data_url=str(data), run_store=str(tmp_path / "runs.db"),
                root_dir=project, backend_options=kube_options(data, **options))
    try:
        with PodRecorder(kube) as recorder:
            run = s.run(tasks.two)
            recorder.wait_gone(run.name)
    finally:
        s.close()
    return run, recorder


def test_images_are_pushed_and_pods_pull_them(tmp_path: Path, kube: Any, engine_node: None, registry: Registry) -> None:
    prefix = f"{registry.host}/flyte"
    run, recorder = run_two(tmp_path, kube, "reg_tasks", TASKS, registry=prefix, image_pull_policy="Always")

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

    # Every pod ran that reference, pulled with the policy asked for; the image ids the containers
    # reported are the registry's digest of it (what the kubelet resolved the pull to).
    for pod in pods:
        container = pod.spec.containers[0]
        assert (container.image, container.image_pull_policy) == (ref, "Always"), pod.metadata.name
    assert_image_ids(recorder, pods, f"{prefix}/flyte@{digest}")

    # The kubelet pulled from the registry: after the push (the manifest PUT), one manifest
    # request of the tag per pod (imagePullPolicy Always resolves the tag on every start).
    served = registry.requests()
    manifest = f"/v2/flyte/flyte/manifests/{tags['tags'][0]}"
    put = [i for i, (method, path, status) in enumerate(served) if method == "PUT" and path == manifest]
    assert put and served[put[0]][2] == 201, served
    pulls = [r for r in served[put[0] + 1 :] if r[0] in ("HEAD", "GET") and r[1] == manifest and r[2] == 200]
    assert len(pulls) >= len(pods), served[put[0] :]
    assert pods_of(kube, run.name) == []


# The same tasks in an environment whose image names a registry nothing here can push to (no such
# host): Flyte 2 programs often name one.
NAMED_REGISTRY_TASKS = TASKS.replace(
    'TaskEnvironment(name="regt")',
    'TaskEnvironment(name="named", image=flyte.Image.from_debian_base(registry="registry.invalid/team"))',
)
assert "registry.invalid" in NAMED_REGISTRY_TASKS


def test_push_images_false_runs_the_local_image_of_an_image_naming_a_registry(
    tmp_path: Path, kube: Any, engine_node: None
) -> None:
    run, recorder = run_two(tmp_path, kube, "named_tasks", NAMED_REGISTRY_TASKS, push_images=False)
    assert run.outputs()[0] == 2
    pods = recorder.of_run(run.name)
    assert len(pods) == 3, sorted(p.metadata.name for p in pods)
    images = {p.spec.containers[0].image for p in pods}
    assert len(images) == 1 and "registry.invalid" not in images.pop(), images


PRIVATE_TASKS = """
import flyte

# The same image twice: with the pull credential and without it (registry_secret is not image
# content, so both are the same reference in the registry).
IMAGE = flyte.Image.from_debian_base(registry={prefix!r})
env = flyte.TaskEnvironment(name="privt", image=IMAGE.clone(registry_secret={secret!r}))
anonymous = flyte.TaskEnvironment(name="privanon", image=IMAGE)


@env.task
def one() -> int:
    return 1


@env.task
def two() -> int:
    return one() + one()


@anonymous.task
def lonely() -> int:
    return 3
"""


def test_a_private_registry_is_pulled_with_the_image_registry_secret(
    tmp_path: Path, kube: Any, engine_node: None, private_registry: Registry, docker_login: Path, pull_secret: str
) -> None:
    prefix = f"{private_registry.host}/flyte"
    project = tmp_path / "project"  # the code bundle's root: not the registry's storage or login
    project.mkdir()
    (project / "priv_tasks.py").write_text(PRIVATE_TASKS.format(prefix=prefix, secret=pull_secret))
    sys.modules.pop("priv_tasks", None)
    tasks = load_file(project / "priv_tasks.py", project)
    data = tmp_path / "data"
    s = Session(
        config=Config(),
        backend="kubernetes",
        data_url=str(data),
        run_store=str(tmp_path / "runs.db"),
        root_dir=project,
        backend_options=kube_options(data, image_pull_policy="Always", image_pull_grace=5),
    )
    try:
        with PodRecorder(kube) as recorder:
            run = s.run(tasks.two)
            after_run = len(private_registry.requests())
            with pytest.raises(BaseRuntimeError) as ei:
                s.run(tasks.lonely)
            failed = ei.value.run.name  # type: ignore[attr-defined]
            after_failure = private_registry.requests()
            recorder.wait_gone(run.name, failed)
    finally:
        s.close()

    # The push authenticated with the Docker client's login (anonymous requests are refused). Each
    # run pushes its image (the same tag, unless this checkout's sources changed in between).
    with pytest.raises(urllib.error.HTTPError) as denied:
        private_registry.get("/v2/_catalog", anonymous=True)
    assert denied.value.code == 401
    _, catalog = private_registry.get("/v2/_catalog")
    assert catalog["repositories"] == ["flyte/flyte"], catalog
    _, tags = private_registry.get("/v2/flyte/flyte/tags/list")

    # With the secret: the run succeeded, every pod carried imagePullSecrets and ran the pushed image
    # the kubelet pulled from the registry (its image id is the registry's digest of it).
    assert run.phase == flyte.ActionPhase.SUCCEEDED, run.phase
    assert run.outputs()[0] == 2
    pods = recorder.of_run(run.name)
    assert len(pods) == 3, sorted(p.metadata.name for p in pods)
    ref = pods[0].spec.containers[0].image
    repo, _, tag = ref.rpartition(":")
    assert repo == f"{prefix}/flyte" and tag in tags["tags"], (ref, tags)
    headers, _ = private_registry.get(f"/v2/flyte/flyte/manifests/{tag}", method="HEAD")
    digest = headers["Docker-Content-Digest"]
    for pod in pods:
        assert [r.name for r in pod.spec.image_pull_secrets or []] == [pull_secret], pod.metadata.name
        container = pod.spec.containers[0]
        assert (container.image, container.image_pull_policy) == (ref, "Always"), pod.metadata.name
    assert_image_ids(recorder, pods, f"{prefix}/flyte@{digest}")
    first = after_failure[:after_run]  # the first run's push, then the kubelet's pulls
    manifest = f"/v2/flyte/flyte/manifests/{tag}"
    put = [i for i, (method, path, status) in enumerate(first) if method == "PUT" and path == manifest]
    assert put and first[put[0]][2] == 201, first
    pulls = [r for r in first[put[0] + 1 :] if r[0] in ("HEAD", "GET") and r[1] == manifest and r[2] == 200]
    assert len(pulls) >= len(pods), first[put[0] :]

    # Without it: the pushed image cannot be pulled; the registry refused every request of the
    # kubelet's (the Docker engine's) pull.
    err = ei.value
    assert err.code == "ImagePullBackOffError", str(err)  # type: ignore[attr-defined]
    (bare,) = recorder.of_run(failed)
    bare_ref = bare.spec.containers[0].image
    assert not bare.spec.image_pull_secrets and bare_ref.rpartition(":")[2] in tags["tags"], bare_ref
    assert bare_ref in str(err) and "no basic auth credentials" in str(err), str(err)
    assert "registry_secret" in str(err), str(err)  # the hint
    second = after_failure[after_run:]  # the second run's (authenticated) push, then the kubelet's tries
    bare_manifest = f"/v2/flyte/flyte/manifests/{bare_ref.rpartition(':')[2]}"
    pushed = max((i + 1 for i, r in enumerate(second) if r[:2] == ("PUT", bare_manifest)), default=0)
    assert pushed, second
    tries = second[pushed:]
    assert tries and all(status == 401 for _, _, status in tries), second
    assert pods_of(kube, run.name) == [] and pods_of(kube, failed) == []


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

    from flyte_core.extend import Image

    port = free_port()  # nothing listens there
    images = PodImages(_Prebuilt(), engine, f"localhost:{port}/flyte")
    with pytest.raises(FlyteUsageError) as ei:
        images.ensure(Image.from_debian_base())
    assert f"localhost:{port}/flyte/python:3.11-bookworm" in str(ei.value)
    assert "connection refused" in str(ei.value) and "backends.kubernetes.registry" in str(ei.value)


def test_without_push_an_image_naming_a_registry_stays_local(engine: Any) -> None:
    from flyte_backend_kubernetes.images import PodImages

    from flyte_core.extend import Image

    port = free_port()  # nothing listens there: a push would fail
    images = PodImages(_Prebuilt(), engine, None, push=False)
    assert images.ensure(Image.from_debian_base(registry=f"localhost:{port}/team")) == BASE_IMAGE
    assert not [t for i in engine.images.list() for t in i.tags if t.startswith(f"localhost:{port}/")]


def test_an_invalid_registry_is_a_usage_error_not_an_engine_traceback(engine: Any) -> None:
    from flyte_backend_kubernetes.images import PodImages

    from flyte_core.extend import Image

    images = PodImages(_Prebuilt(), engine, "http://localhost:5000/flyte")  # a URL, not host:port/prefix
    with pytest.raises(FlyteUsageError) as ei:
        images.ensure(Image.from_debian_base())
    assert "invalid reference format" in str(ei.value) and "host:port/prefix" in str(ei.value)


def test_a_push_to_a_registry_that_requires_login_uses_the_clients_login(
    engine: Any, private_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docker
    from flyte_backend_kubernetes.images import PodImages

    from flyte_core.extend import Image

    assert private_registry.auth is not None
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-login"))  # no stored login at all
    client = docker.from_env()
    try:
        local = BASE_IMAGE.rsplit("/", 1)[-1]  # python:3.11-bookworm
        target = f"{private_registry.host}/flyte/{local}"
        with pytest.raises(FlyteUsageError) as ei:
            PodImages(_Prebuilt(), client, f"{private_registry.host}/flyte").ensure(Image.from_debian_base())
        assert target in str(ei.value) and "no basic auth credentials" in str(ei.value), str(ei.value)
        assert "logged in" in str(ei.value)

        # docker-py keeps a login in the client (the engine stores none): the push of PodImages,
        # given that client, sends it.
        user, password = private_registry.auth
        client.login(registry=private_registry.host, username=user, password=password, reauth=True)
        images = PodImages(_Prebuilt(), client, f"{private_registry.host}/flyte")
        assert images.ensure(Image.from_debian_base(registry_secret="ignored-by-the-push")) == target
        _, catalog = private_registry.get("/v2/_catalog")
        assert catalog["repositories"] == [f"flyte/{local.split(':')[0]}"], catalog
    finally:
        client.close()
