"""Fixtures for the docker backend's tests: a real engine, an offline base image, a shared cache.

Without a reachable engine the engine-bound tests are skipped, except under CI (env ``CI`` set),
where a missing engine is a failure: CI must not pass by testing nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from flyte_backend_docker.images import ImageBuilder
from flyte_backend_docker.labels import RUN_LABEL

from flyte_core.extend import Config, Image, Session, load_file

#: The offline base image /work/shared/tools/docker-up.sh builds (Debian bookworm, python3 3.11).
BASE_IMAGE = os.environ.get("FLYTE_DOCKER_TEST_BASE_IMAGE", "flyte-ci/python:3.11-bookworm")


def containers_of(client: docker.DockerClient, run: str, running: bool = False) -> list[Any]:
    """The containers labelled with ``run`` (only the running ones with ``running``)."""
    return list(client.api.containers(all=not running, filters={"label": f"{RUN_LABEL}={run}"}))


def docker_session(project: Path, **options: Any) -> Session:
    """A docker-backend session on the test base image whose data store, run store and code root live
    in ``project``; ``options`` add to or change the backend options."""
    return Session(config=Config(), backend="docker",
                   backend_options={"base_image": BASE_IMAGE, "echo": False, **options},
                   data_url=str(project / "data"), run_store=str(project / "runs.db"), root_dir=project)


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A project folder holding the test module's ``TASK_MODULE`` (name, source)."""
    name, text = request.module.TASK_MODULE
    (tmp_path / f"{name}.py").write_text(text)
    return tmp_path


@pytest.fixture
def session(project: Path) -> Iterator[Session]:
    """A docker session on ``project`` (see :func:`docker_session`), closed after the test."""
    s = docker_session(project)
    yield s
    s.close()


@pytest.fixture
def tasks(request: pytest.FixtureRequest, project: Path) -> Any:
    """The test module's task module, freshly loaded from ``project``."""
    name, _ = request.module.TASK_MODULE
    sys.modules.pop(name, None)
    return load_file(project / f"{name}.py", project)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of a reachable engine that has the test base image."""
    try:
        client = docker.from_env()
        client.ping()
    except Exception as e:
        _unavailable(f"no Docker engine reachable ({e}); start one with /work/shared/tools/docker-up.sh")
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        _unavailable(f"base image {BASE_IMAGE} is missing; build it with /work/shared/tools/docker-up.sh")
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    """The offline base image default test images are built on."""
    return BASE_IMAGE


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheelhouse cache for the whole session, so the wheelhouse is built once."""
    return tmp_path_factory.mktemp("docker-cache")


@pytest.fixture(scope="session")
def builder(docker_client: docker.DockerClient, cache_dir: Path) -> ImageBuilder:
    """A builder on the offline base image."""
    return ImageBuilder(docker_client, base_image=BASE_IMAGE, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def default_image(builder: ImageBuilder) -> str:
    """The default image's tag, built at most once per session and kept afterwards (later tests and
    later sessions reuse it: its tag only changes when this checkout does)."""
    return builder.ensure(Image.from_debian_base())


@pytest.fixture
def made_images(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Tags a test appends here are removed when it ends."""
    tags: list[str] = []
    yield tags
    for tag in tags:
        try:
            docker_client.images.remove(tag, force=True)
        except docker.errors.ImageNotFound:
            pass


class PrivateEngine:
    """A Docker engine of a test's own (its own data root, exec root, socket and containerd), so a
    test can kill and restart it without touching the shared engine others' work runs on.

    Started with the runtime wrapper the shared engine uses (``../shared/tools/docker-up.sh``:
    this sandbox needs ``runcwrap``), in a network namespace of its own (``unshare --net``): an
    engine sets up its ``docker0`` bridge (and one started with ``--bridge=none`` deletes the host's
    ``docker0``, which the shared engine and the cluster use), so it must never see the host's
    interfaces. Task containers reach the controller through the bind-mounted channel socket.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.pidfile = root / "dockerd.pid"
        self.log = root / "dockerd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: docker.DockerClient | None = None

    def command(self) -> list[str]:
        """The dockerd command line."""
        runtime = Path(os.environ.get("FLYTE_CI_CACHE", "/var/cache/flyte-ci")) / "runc-wrap"
        runtimes = ["--add-runtime", f"runcwrap={runtime}", "--default-runtime", "runcwrap"] if runtime.exists() else []
        return ["unshare", "--net", "dockerd", "--data-root", str(self.root / "data"),
                "--exec-root", str(self.root / "exec"), "--pidfile", str(self.pidfile), "--host", self.host,
                "--iptables=false", "--ip-masq=false", *runtimes]

    def start(self, timeout: float = 120) -> None:
        """Start the engine and wait until it answers (a killed engine leaves its pidfile behind)."""
        self.pidfile.unlink(missing_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client = docker.DockerClient(base_url=self.host, timeout=30)
                client.ping()
                break
            except Exception:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    tail = self.log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"the private dockerd did not start; its log ends:\n{tail}") from None
                time.sleep(0.25)
        if self.client is not None:
            self.client.close()
        self.client = client

    def kill(self) -> None:
        """Kill the engine and its containerd with SIGKILL, as a crash does (its containers' shims
        live on), and reap it. Its containerd does not reliably die with it, and once dead it may
        stay a zombie here (nobody reaps orphans), which the next start takes for a live one:
        so it is killed and its pidfile removed."""
        assert self.proc is not None
        containerd = self.root / "exec" / "containerd" / "containerd.pid"
        self.proc.kill()
        self.proc.wait(timeout=60)
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(containerd.read_text().strip()), signal.SIGKILL)
        containerd.unlink(missing_ok=True)

    def restart(self) -> None:
        """Kill the engine, then start it again on the same data root."""
        self.kill()
        self.start()

    def load(self, source: docker.DockerClient, image: str) -> None:
        """Copy ``image`` from the engine of ``source`` into this one (``docker save | docker load``)."""
        assert self.client is not None
        self.client.api.load_image(source.api.get_image(image))

    def stop(self) -> None:
        """Remove every container, stop the engine, end what it left behind and delete its folders."""
        if self.proc is not None and self.proc.poll() is not None:
            # The test ended with the engine down: bring it back to remove its containers properly.
            self.kill()
            with contextlib.suppress(Exception):
                self.start(timeout=60)
        if self.proc is not None and self.proc.poll() is None and self.client is not None:
            with contextlib.suppress(Exception):
                for c in self.client.api.containers(all=True):
                    self.client.api.remove_container(c["Id"], force=True, v=True)
        if self.client is not None:
            self.client.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=60)
        # Shims of containers (after a crash of the engine) are this engine's: found by its exec root.
        exec_root = str(self.root / "exec")
        for pid in _pids_mentioning(exec_root):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # The engine mounts its data root (and overlays inside it); unmount deepest first.
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith(str(self.root))]
        for mount in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def _pids_mentioning(text: str) -> list[int]:
    """Processes whose command line mentions ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if text in (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(proc.name))
    return found


@pytest.fixture
def private_engine(docker_client: docker.DockerClient, default_image: str) -> Iterator[PrivateEngine]:
    """A Docker engine of this test's own that it may kill and restart (never the shared one), with
    the default task image loaded (tasks name it as their image); stopped and deleted afterwards."""
    if shutil.which("dockerd") is None or shutil.which("unshare") is None or os.geteuid() != 0:
        _unavailable("a private Docker engine needs dockerd, unshare (util-linux) and root")
    # A short folder: the engine's and containerd's unix sockets live under it (108 bytes at most).
    engine = PrivateEngine(Path(tempfile.mkdtemp(prefix="fdk-", dir="/tmp")))
    try:
        engine.start()
        engine.load(docker_client, default_image)  # the base image's layers and all: nothing is built here
        yield engine
    finally:
        engine.stop()
