"""Build :class:`flyte_core.images.spec.Image` specs into local Docker images, once per content hash.

``ImageBuilder.ensure(image)`` returns a local tag ``<name>:<hash>``. The hash covers the spec,
the base image's id, the wheelhouse of this checkout, the rendered Dockerfile and the content of
every file the build context carries, so editing flyte-core gives a new tag while an unchanged
spec is found with one ``images.get`` call and never rebuilt. Builds of the same tag are
single-flight: concurrent actions needing one image wait for a single build.

Registered by name so a plugin can supply another builder; see :func:`register_image_builders`.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import sys
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import docker
import docker.errors

from flyte import errors
from flyte_backend_docker import dockerfile, wheelhouse
from flyte_core.extend import FlyteUsageError, Image, Secret, env_name, secret_id
from flyte_core.extend import default_secret_value as flyte_secret_value

#: Environment variable naming the base image of default images (an explicit argument wins).
BASE_IMAGE_ENV = "FLYTE_DOCKER_BASE_IMAGE"
#: Label on every image this builder makes, so they can be listed and pruned.
LABEL = "org.flyte-core.builder"
#: Build log lines kept for the error of a failed build.
TAIL = 30
_REPO_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")


class ImageBuildError(FlyteUsageError, errors.ImageBuildError):
    """An image could not be built (or its base found); the message names the image, the failing
    step and carries the last lines of the build log. Also Flyte 2's ``flyte.errors.ImageBuildError``."""

    def __init__(self, message: str) -> None:
        errors.ImageBuildError.__init__(self, message)


def default_base_image(python_version: tuple[int, int] | None = None) -> str:
    """``python:<major>.<minor>-slim-bookworm`` for ``python_version`` (this interpreter's by default)."""
    major, minor = python_version or sys.version_info[:2]
    return f"python:{major}.{minor}-slim-bookworm"


def default_cache_dir() -> Path:
    """Where wheelhouses and probe results live unless the caller says otherwise."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "flyte" / "docker"


class ImageBuilder:
    """Builds image specs with a Docker engine; thread-safe; one build per tag at a time.

    :param client: the engine to build with.
    :param base_image: base of default images; else ``$FLYTE_DOCKER_BASE_IMAGE``; else
        :func:`default_base_image` of the image's Python version.
    :param cache_dir: where the wheelhouse and per-base-image Python probes are cached.
    :param log: called with each build log line (from the building thread).
    :param packages: local distributions to install (default: :func:`wheelhouse.repo_packages`).
    :param extra_requirements: more requirements to put in the wheelhouse and install.
    :param secret_value: gives the value of a layer's ``secret_mounts`` (default: the environment's
        ``FLYTE_SECRET_*`` / ``flyte secrets`` store, as ``flyte_core.security.secrets.flyte_secret_value``).
    :param code_root: the folder ``with_code_bundle`` bakes in (default: the current folder).
    """

    name = "docker"

    def __init__(
        self,
        client: docker.DockerClient,
        base_image: str | None = None,
        cache_dir: Path | str | None = None,
        log: Callable[[str], None] | None = None,
        *,
        packages: Sequence[Path] | None = None,
        extra_requirements: Sequence[str] = (),
        secret_value: Callable[[Secret], str | None] | None = None,
        code_root: Path | str | None = None,
    ) -> None:
        self.client = client
        self.base_image = base_image or os.environ.get(BASE_IMAGE_ENV) or None
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.log = log or (lambda line: None)
        self._packages = list(packages) if packages is not None else None
        self._extra = list(extra_requirements)
        self._secret_value = secret_value or flyte_secret_value
        self.code_root = Path(code_root) if code_root else None
        self._lock = threading.Lock()
        self._tag_locks: dict[str, threading.Lock] = {}
        self._tags: dict[str, str] = {}  # name and spec JSON -> tag, so hashing runs once per spec
        self._wheelhouse: wheelhouse.Wheelhouse | None = None
        self._wheelhouse_lock = threading.Lock()

    # --- public ------------------------------------------------------------------------------

    def ensure(self, image: Image) -> str:
        """The local tag of ``image``, built first if the engine does not have it yet."""
        if image.dockerfile is None and image.base_image and not image.layers and not image.install_flyte:
            return self._present(image.base_image)  # from_base: used as it is
        name = _repo_name(image)
        # The spec leaves out the name, which is part of the tag.
        key = json.dumps([image.name, image.spec()], sort_keys=True, default=str)
        with self._lock:
            tag = self._tags.get(key)
        if tag is not None and self._exists(tag):
            return tag
        plan, base_id, wheels = self._prepare(image)
        tag = f"{name}:{_content_hash(image, plan, base_id, wheels)}"
        with self._lock:
            self._tags[key] = tag
            tag_lock = self._tag_locks.setdefault(tag, threading.Lock())
        # Single flight: the second caller (thread, or process on this host) finds the image the
        # first one built instead of building it again and leaving a dangling duplicate.
        with tag_lock, _file_lock(_lock_path(tag)):
            if not self._exists(tag):
                self._build_plan(tag, image, plan, wheels)
        return tag

    def base_for(self, image: Image) -> str:
        """The base image ``image`` is built on."""
        return image.base_image or self.base_image or default_base_image(image.python_version)

    # --- steps -------------------------------------------------------------------------------

    def _prepare(self, image: Image) -> tuple[list[dockerfile.Step], str, wheelhouse.Wheelhouse | None]:
        wheels = self._wheels() if image.install_flyte and image.dockerfile is None else None
        if wheels is not None and tuple(image.python_version) != sys.version_info[:2]:
            raise ImageBuildError(
                f"The image asks for Python {_v(image.python_version)} but flyte-core's wheels are built by this "
                f"interpreter (Python {_v(sys.version_info[:2])}); run with Python {_v(image.python_version)} or "
                f"drop python_version from the image."
            )
        base_id = ""
        if image.dockerfile is None:
            base = self.base_for(image)
            self._present(base)
            base_id = self.client.images.get(base).id
            if dockerfile.uses_venv(image):
                self._check_python(base, base_id, image.python_version)
        try:
            # Extra requirements are in the wheelhouse too; naming them installs them.
            names = [*wheels.distributions, *self._extra] if wheels else []
            own = list(wheels.distributions) if wheels else []
            plan = dockerfile.render_plan(image, self.base_for(image), names, own, self.code_root)
        except OSError as e:
            raise ImageBuildError(f"Cannot read a file of the image spec: {e}") from e
        return plan, base_id, wheels

    def _build_plan(self, tag: str, image: Image, plan: list[dockerfile.Step],
                    wheels: wheelhouse.Wheelhouse | None) -> None:
        """Build each segment in turn (the last one as ``tag``), running secret steps in between."""
        previous = ""
        for index, step in enumerate(plan):
            if isinstance(step, dockerfile.SecretStep):
                previous = self._secret_step(tag, previous, step)
                continue
            text = step.text.replace(dockerfile.PREVIOUS, previous) if previous else step.text
            last = index == len(plan) - 1
            with_wheels = wheels if f"COPY {dockerfile.WHEELS_DIR}/" in text else None
            previous = self._build(tag if last else None, tag, image, text, step.files, with_wheels)
        if not self._exists(tag):
            raise ImageBuildError(f"Building image {tag} ended without an error but the engine has no such image.")

    def _build(self, tag: str | None, final: str, image: Image, text: str, files: dockerfile.ContextFiles,
               wheels: wheelhouse.Wheelhouse | None) -> str:
        """Build one Dockerfile (tagged ``tag`` when given); returns the id of the image it made."""
        self.log(f"Building image {final}")
        tail: collections.deque[str] = collections.deque(maxlen=TAIL)
        step, error, image_id = "", "", ""
        with tempfile.TemporaryFile() as context:
            name = _write_context(context, image, text, files, wheels)
            context.seek(0)
            try:
                stream = self.client.api.build(
                    fileobj=context, custom_context=True, dockerfile=name, tag=tag,
                    rm=True, forcerm=True, decode=True, labels={LABEL: "docker"},
                )
                for chunk in stream:
                    if "error" in chunk:
                        error = str(chunk["error"]).strip()
                        break
                    image_id = str((chunk.get("aux") or {}).get("ID") or image_id)
                    for line in str(chunk.get("stream") or chunk.get("status") or "").splitlines():
                        if line.strip():
                            tail.append(line)
                            self.log(line)
                            if line.startswith("Step "):
                                step = line
                            elif line.startswith("Successfully built "):
                                image_id = image_id or line.split()[-1]
            except docker.errors.APIError as e:
                error = str(e.explanation or e)
        if error:
            raise ImageBuildError(
                f"Building image {final} failed{' at ' + step if step else ''}: {error}\n"
                "Last lines of the build log:\n" + "\n".join(tail)
            )
        return image_id

    def _secret_step(self, final: str, previous: str, step: dockerfile.SecretStep) -> str:
        """Run ``step.command`` in a container of ``previous`` with its secrets bind-mounted read-only
        (files by secret id, environment variables through a script the command sources) and commit
        the container: bind mounts are not part of a container's filesystem, so the values reach
        neither a layer nor the image's config or history. Returns the committed image's id."""
        values = {}
        for secret in step.secrets:
            value = self._secret_value(secret)
            if value is None:
                raise ImageBuildError(
                    f"Building image {final}: a step needs build secret '{secret_id(secret)}', which no secret "
                    f"provider has; set {env_name(secret)} or run `flyte secrets set {secret_id(secret)}`."
                )
            values[secret] = value
        shm = Path("/dev/shm")
        folder = Path(tempfile.mkdtemp(prefix="flyte-build-secrets-", dir=shm if shm.is_dir() else None))
        container = None
        try:
            exports = []
            for secret, value in values.items():
                if secret.mount is not None:
                    _write_private(folder / secret_id(secret), value)
                else:
                    exports.append(f"export {secret.as_env_var or env_name(secret)}={shlex.quote(value)}")
            _write_private(folder / dockerfile.SECRETS_ENV, "\n".join(exports) + "\n")
            command = f". {dockerfile.SECRETS_DIR}/{dockerfile.SECRETS_ENV} && {step.command}"
            self.log(f"Running a build step with secrets ({', '.join(secret_id(s) for s in step.secrets)}): "
                     f"{step.command}")
            config = self.client.images.get(previous).attrs.get("Config") or {}
            container = self.client.containers.create(
                previous, ["/bin/sh", "-c", command], labels={LABEL: "secret-step"},
                volumes={str(folder): {"bind": dockerfile.SECRETS_DIR, "mode": "ro"}},
                entrypoint=[], user=config.get("User") or "",
            )
            container.start()
            code = int(container.wait().get("StatusCode", 1))
            tail = container.logs().decode(errors="replace").strip().splitlines()[-TAIL:]
            for line in tail:
                self.log(line)
            if code != 0:
                raise ImageBuildError(
                    f"Building image {final} failed at a step with secrets (`{step.command}`, exit {code}).\n"
                    "Last lines of its log:\n" + "\n".join(tail)
                )
            # The previous image's config, so the step's command and mounts are not the image's.
            committed = container.commit(conf=_commit_config(config))
            return str(committed.id)
        except docker.errors.DockerException as e:
            raise ImageBuildError(f"Building image {final}: a step with secrets failed: {e}") from e
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            if container is not None:
                with contextlib.suppress(docker.errors.DockerException):
                    container.remove(force=True)

    def _wheels(self) -> wheelhouse.Wheelhouse:
        with self._wheelhouse_lock:
            if self._wheelhouse is None:
                packages = self._packages if self._packages is not None else wheelhouse.repo_packages()
                # The optional extras installed here (flyte-core[flyte2], ...) go into images too.
                self._extra += [r for r in wheelhouse.installed_extras(packages) if r not in self._extra]
                self._wheelhouse = wheelhouse.build_wheelhouse(packages, self._extra, self.cache_dir, log=self.log)
            return self._wheelhouse

    def _present(self, ref: str) -> str:
        """``ref`` itself, pulled first when the engine does not have it."""
        if self._exists(ref):
            return ref
        self.log(f"Pulling {ref}")
        try:
            self.client.images.pull(ref)
        except docker.errors.APIError as e:
            raise ImageBuildError(
                f"Image {ref} is not on this Docker engine and cannot be pulled ({e.explanation or e}); pull or "
                f"build it, or set {BASE_IMAGE_ENV} to a local image with python3 and venv."
            ) from e
        return ref

    def _check_python(self, base: str, base_id: str, want: tuple[int, int]) -> None:
        """Fail unless the base image's ``python3`` is ``want``; the answer is cached per image id."""
        probe = self.cache_dir / "python" / f"{base_id.replace(':', '-')}.json"
        try:
            got = tuple(json.loads(probe.read_text()))
        except (OSError, ValueError):
            try:
                out = self.client.containers.run(
                    base_id, ["python3", "-c", "import sys; print(list(sys.version_info[:2]))"],
                    remove=True, network_disabled=True,
                )
            except docker.errors.DockerException as e:
                raise ImageBuildError(
                    f"Cannot run python3 in base image {base} ({e}); use a base image with python3 and venv."
                ) from e
            got = tuple(json.loads(out.decode().strip()))
            probe.parent.mkdir(parents=True, exist_ok=True)
            probe.write_text(json.dumps(list(got)))
        if got != tuple(want):
            raise ImageBuildError(
                f"Base image {base} has Python {_v(got)} but the image needs Python {_v(want)} (this interpreter's "
                f"version unless python_version says otherwise); use python:{_v(want)}-slim-bookworm or set "
                f"{BASE_IMAGE_ENV} to an image with Python {_v(want)}."
            )

    def _exists(self, ref: str) -> bool:
        try:
            self.client.images.get(ref)
        except docker.errors.ImageNotFound:
            return False
        return True


# --- registration --------------------------------------------------------------------------------


def docker_image_builder(options: Mapping[str, Any]) -> ImageBuilder:
    """The factory registered as ``"docker"``: options ``client`` (default ``docker.from_env()``),
    ``base_image``, ``cache_dir``, ``log``, ``packages``, ``extra_requirements``, ``secret_value``,
    ``code_root``."""
    return ImageBuilder(
        options.get("client") or docker.from_env(),
        base_image=options.get("base_image"),
        cache_dir=options.get("cache_dir"),
        log=options.get("log"),
        packages=options.get("packages"),
        extra_requirements=options.get("extra_requirements", ()),
        secret_value=options.get("secret_value"),
        code_root=options.get("code_root"),
    )


def register_image_builders(registry: Any) -> None:
    """Body of the proposed ``flyte_register_image_builders`` hook: ``registry.add("docker", ...)``."""
    registry.add("docker", docker_image_builder)


# --- helpers -------------------------------------------------------------------------------------


def _lock_path(tag: str) -> Path:
    """A per-host lock file for ``tag``: tags name images of the (local) engine, whatever cache
    directory each process uses, so the lock lives in the system's temporary folder."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", tag)
    return Path(tempfile.gettempdir()) / f"flyte-docker-locks-{uid}" / f"{safe}.lock"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (POSIX ``flock``); a no-op where fcntl does not exist."""
    try:
        import fcntl
    except ImportError:  # Windows: threads are still single-flight through the tag lock
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _repo_name(image: Image) -> str:
    name = image.name or "flyte"
    if not _REPO_NAME.match(name):
        raise ImageBuildError(
            f"Image name '{name}' is not a valid Docker repository name; use lowercase letters, digits, "
            "'.', '_', '-' and '/'."
        )
    return name


def _content_hash(image: Image, plan: list[dockerfile.Step], base_id: str,
                  wheels: wheelhouse.Wheelhouse | None) -> str:
    """What the tag's hash covers: the spec, the base image id, the wheelhouse, every Dockerfile and
    secret step (which secrets, never their values) and the content of every context file (the
    spec's own hashes were taken when it was made; files may have changed since)."""
    h = hashlib.sha256()
    steps = [s.text if isinstance(s, dockerfile.Segment) else [s.command, [secret_id(x) for x in s.secrets]]
             for s in plan]
    h.update(json.dumps({"spec": image.spec(), "base": base_id, "wheels": wheels.key if wheels else None,
                         "dockerfile": steps[0] if len(steps) == 1 else steps}, sort_keys=True, default=str).encode())
    for segment in plan:
        for arcname, path in segment.files if isinstance(segment, dockerfile.Segment) else []:
            h.update(arcname.encode() + b"\0" + _file_digest(path))
    return h.hexdigest()[:16]


def _write_private(path: Path, value: str) -> None:
    """Write ``value`` to a new file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)


#: Image config fields a commit keeps from the image a secret step ran on.
_CONFIG_KEYS = ("User", "Env", "Cmd", "Entrypoint", "WorkingDir", "Labels", "ExposedPorts", "Volumes",
                "StopSignal", "Shell", "OnBuild")


def _commit_config(config: dict[str, Any]) -> dict[str, Any]:
    return {k: config[k] for k in _CONFIG_KEYS if config.get(k) is not None}


def _v(version: Sequence[int]) -> str:
    return ".".join(str(x) for x in version)


def _file_digest(path: Path) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def _write_context(out: IO[bytes], image: Image, text: str, files: dockerfile.ContextFiles,
                   wheels: wheelhouse.Wheelhouse | None) -> str:
    """Write the build context as an uncompressed tar and return the Dockerfile's name in it.

    mtimes and owners are zeroed so the engine's step cache sees identical files as identical
    across builds. A ``from_dockerfile`` image's own Dockerfile is already among ``files``; adding
    ours beside it would let ``COPY . ...`` copy it into the image.
    """

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        return info

    with tarfile.open(fileobj=out, mode="w", dereference=True) as tar:
        if image.dockerfile is not None:
            name = image.dockerfile.name
        else:
            name, data = dockerfile.DOCKERFILE, text.encode()
            info = normalise(tarfile.TarInfo(name))
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        if wheels is not None:
            for wheel in sorted(wheels.path.glob("*.whl")):
                tar.add(wheel, f"{dockerfile.WHEELS_DIR}/{wheel.name}", filter=normalise)
        for arcname, path in files:
            tar.add(path, arcname, recursive=False, filter=normalise)
    return name
