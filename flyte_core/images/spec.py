"""``flyte.Image``: a declarative container image spec.

The core only records the spec and computes its content hash; container backends build it
(through their image-builder hook) and the local backend ignores it.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from flyte_core.images import layers as L
from flyte_core.images.layers import Layer
from flyte_core.security.secretspec import Secret, SecretRequest


def _default_python() -> tuple[int, int]:
    return sys.version_info[:2]


def _secret_name(value: str | Secret | None) -> str | None:
    """The name of a registry credential: a string as it is, a ``flyte.Secret`` by its key (Flyte 2
    turns ``registry_secret="name"`` into ``Secret(key="name")``, so both spell the same secret)."""
    if value is None or isinstance(value, str):
        return value or None
    if not isinstance(value, Secret):
        raise TypeError(f"registry_secret must be a str or a flyte.Secret, got {type(value).__name__}")
    if value.group:
        raise ValueError(f"registry_secret names one registry credential by its key; flyte.Secret "
                         f"'{value.key}' has a group ({value.group!r}), which a pull credential does not have")
    return value.key


@attrs.frozen
class Image:
    """A container image: a base plus ordered layers. Build with the ``from_*`` class methods and
    extend with the ``with_*`` methods; each returns a new Image.

    ``registry_secret`` names the credential a cluster uses to pull the image from a private
    registry (on Kubernetes: a ``kubernetes.io/dockerconfigjson`` Secret, put in the pod's
    ``imagePullSecrets``). It is not part of the image: :meth:`spec`, :attr:`tag` and :attr:`uri`
    ignore it, so adding or changing it never rebuilds or re-tags an image."""

    base_image: str | None = None
    dockerfile: Path | None = None
    registry: str | None = None
    name: str | None = None
    platform: tuple[str, ...] = ("linux/amd64",)
    python_version: tuple[int, int] = attrs.field(factory=_default_python)
    extendable: bool = True
    install_flyte: bool = True
    layers: tuple[Layer, ...] = ()
    #: The pull credential's name (a ``flyte.Secret`` is stored as its key); not image content.
    registry_secret: str | None = attrs.field(default=None, converter=_secret_name)

    # --- constructors ----------------------------------------------------------------------

    @classmethod
    def from_debian_base(
        cls,
        python_version: tuple[int, int] | None = None,
        flyte_version: str | None = None,
        install_flyte: bool = True,
        registry: str | None = None,
        registry_secret: str | Secret | None = None,
        name: str | None = None,
        platform: tuple[str, ...] | None = None,
    ) -> Image:
        """The default image: Debian with the caller's Python and this project's packages.
        ``registry_secret`` names the credential the cluster pulls it with from a private
        ``registry`` (see the class doc)."""
        return cls(
            base_image=None,
            registry=registry,
            registry_secret=registry_secret,
            name=name or "flyte",
            platform=platform or ("linux/amd64",),
            python_version=python_version or _default_python(),
            install_flyte=install_flyte,
        )

    @classmethod
    def from_base(cls, image_uri: str) -> Image:
        """A prebuilt image, used as it is (no flyte-core is installed into it)."""
        return cls(base_image=image_uri, install_flyte=False, extendable=False)

    @classmethod
    def from_dockerfile(
        cls, file: Path | str, registry: str | None, name: str, platform: tuple[str, ...] | None = None,
        registry_secret: str | Secret | None = None,
    ) -> Image:
        """An image built from a Dockerfile; no layers can be added to it. ``registry_secret`` as in
        :meth:`from_debian_base`."""
        return cls(
            dockerfile=Path(file), registry=registry, name=name, platform=platform or ("linux/amd64",),
            extendable=False, install_flyte=False, registry_secret=registry_secret,
        )

    @classmethod
    def from_ref_name(cls, name: str = "default") -> Image:
        """An image named in the configuration's ``images`` mapping."""
        return cls(base_image=f"ref:{name}", install_flyte=False, extendable=False)

    @classmethod
    def from_uv_script(
        cls,
        script: Path | str,
        *,
        name: str,
        registry: str | None = None,
        registry_secret: str | Secret | None = None,
        python_version: tuple[int, int] | None = None,
        index_url: str | None = None,
        extra_index_urls: str | Sequence[str] | None = None,
        pre: bool = False,
        extra_args: str | None = None,
        platform: tuple[str, ...] | None = None,
        secret_mounts: SecretRequest | None = None,
    ) -> Image:
        """The default image plus the ``dependencies`` of a PEP 723 script's ``# /// script`` block
        (a ``flyte`` among them is this project, which the image already has)."""
        image = cls.from_debian_base(python_version=python_version, registry=registry,
                                     registry_secret=registry_secret, name=name, platform=platform)
        return image._add(L.UVScript(script=script, index_url=index_url, extra_index_urls=extra_index_urls,
                                     pre=pre, extra_args=extra_args, secret_mounts=secret_mounts))

    @classmethod
    def from_pixi_script(
        cls,
        script: Path | str,
        *,
        name: str,
        registry: str | None = None,
        registry_secret: str | Secret | None = None,
        environment: str = "default",
        extra_args: str | None = None,
        platform: tuple[str, ...] | None = None,
        secret_mounts: SecretRequest | None = None,
    ) -> Image:
        """The default image plus the pixi workspace a PEP 723 script with ``[tool.pixi.*]`` tables
        describes. Recorded in the spec; the docker builder refuses it as it does
        :meth:`with_pixi_project`."""
        platforms = tuple("linux-aarch64" if p == "linux/arm64" else "linux-64" for p in platform or ("linux/amd64",))
        image = cls.from_debian_base(registry=registry, registry_secret=registry_secret, name=name, platform=platform)
        return image._add(L.PixiScript(script=script, platforms=platforms, environment=environment,
                                       extra_args=extra_args, secret_mounts=secret_mounts))

    def clone(self, **changes: Any) -> Image:
        """A copy with fields replaced (``registry``, ``registry_secret``, ``name``, ``base_image``,
        ``python_version`` ...); a field given as None keeps its value, as in Flyte 2."""
        addl = changes.pop("addl_layer", None)
        img = attrs.evolve(self, **{k: v for k, v in changes.items() if v is not None})
        return img._add(addl) if addl is not None else img

    # --- layers ----------------------------------------------------------------------------

    def _add(self, layer: Layer) -> Image:
        if not self.extendable and self.name is None:
            raise ValueError(
                "This image cannot be extended (it comes from from_base or from_dockerfile); "
                "call .clone(name='...') first."
            )
        return attrs.evolve(self, layers=(*self.layers, layer))

    def with_pip_packages(
        self,
        *packages: str,
        index_url: str | None = None,
        extra_index_urls: str | Sequence[str] | None = None,
        pre: bool = False,
        extra_args: str | None = None,
        secret_mounts: SecretRequest | None = None,
    ) -> Image:
        """Install Python packages with pip. ``secret_mounts`` are available to this step only (as
        environment variables, or files under /etc/flyte/secrets) and never stored in the image."""
        return self._add(L.PipPackages(packages=packages, index_url=index_url, extra_index_urls=extra_index_urls,
                                       pre=pre, extra_args=extra_args, secret_mounts=secret_mounts))

    def with_apt_packages(self, *packages: str, secret_mounts: SecretRequest | None = None) -> Image:
        """Install Debian packages with apt-get (``secret_mounts`` as in :meth:`with_pip_packages`)."""
        return self._add(L.AptPackages(packages=packages, secret_mounts=secret_mounts))

    def with_requirements(
        self, file: str | Path, index_url: str | None = None,
        extra_index_urls: str | Sequence[str] | None = None, pre: bool = False, extra_args: str | None = None,
        secret_mounts: SecretRequest | None = None,
    ) -> Image:
        """Install the packages of a requirements .txt file (its content is part of the hash)."""
        return self._add(L.Requirements(file=file, index_url=index_url, extra_index_urls=extra_index_urls,
                                        pre=pre, extra_args=extra_args, secret_mounts=secret_mounts))

    def with_env_vars(self, env_vars: dict[str, str]) -> Image:
        """Set environment variables in the image."""
        return self._add(L.Env(env_vars=env_vars.items()))

    def with_commands(self, commands: Iterable[str], secret_mounts: SecretRequest | None = None) -> Image:
        """Run shell commands while building (``secret_mounts`` as in :meth:`with_pip_packages`)."""
        return self._add(L.Commands(commands=[commands] if isinstance(commands, str) else commands,
                                    secret_mounts=secret_mounts))

    def with_workdir(self, workdir: str) -> Image:
        """Set the working directory."""
        return self._add(L.WorkDir(workdir=workdir))

    def with_source_file(self, src: Path | str | Sequence[Path | str], dst: str = ".") -> Image:
        """Copy local files into the image (their content is part of the hash)."""
        files = [Path(src)] if isinstance(src, str | Path) else [Path(s) for s in src]
        names = [f.name for f in files]
        if len(set(names)) != len(names):
            raise ValueError(f"with_source_file got two files with the same name: {names}")
        return self._add(Layer("copy", {"src": [str(f) for f in files], "dst": dst,
                                        "sha256": [_file_hash(f) for f in files]}))

    def with_source_folder(self, src: Path | str, dst: str = ".", copy_contents_only: bool = False) -> Image:
        """Copy a local folder into the image."""
        return self._add(Layer("copy_dir", {"src": str(src), "dst": dst,
                                            "contents_only": copy_contents_only, "sha256": _dir_hash(Path(src))}))

    def with_dockerignore(self, path: Path | str) -> Image:
        """Use this .dockerignore when copying folders."""
        return self._add(L.DockerIgnore(path=path))

    def with_uv_project(
        self,
        pyproject_file: Path | str,
        uvlock: Path | str | None = None,
        index_url: str | None = None,
        extra_index_urls: str | Sequence[str] | None = None,
        pre: bool = False,
        extra_args: str | None = None,
        secret_mounts: SecretRequest | None = None,
        project_install_mode: L.InstallMode = "dependencies_only",
    ) -> Image:
        """Install a uv project: the versions its ``uv.lock`` pins (``uvlock``, default the
        ``uv.lock`` beside ``pyproject_file`` when there is one), else its declared dependencies;
        ``project_install_mode="install_project"`` copies the project folder and installs it too."""
        pyproject = Path(pyproject_file)
        if uvlock is None and (pyproject.parent / "uv.lock").exists():
            uvlock = pyproject.parent / "uv.lock"
        return self._add(L.UVProject(pyproject=pyproject, uvlock=uvlock, index_url=index_url,
                                     extra_index_urls=extra_index_urls, pre=pre, extra_args=extra_args,
                                     secret_mounts=secret_mounts, project_install_mode=project_install_mode))

    def with_poetry_project(
        self,
        pyproject_file: str | Path,
        poetry_lock: Path | None = None,
        extra_args: str | None = None,
        secret_mounts: SecretRequest | None = None,
        project_install_mode: L.InstallMode = "dependencies_only",
    ) -> Image:
        """Install a Poetry project's locked dependencies with ``poetry install`` (``poetry_lock``
        defaults to the ``poetry.lock`` beside ``pyproject_file``); ``install_project`` installs the
        project itself too."""
        return self._add(L.PoetryProject(pyproject=pyproject_file, poetry_lock=poetry_lock, extra_args=extra_args,
                                         secret_mounts=secret_mounts, project_install_mode=project_install_mode))

    def with_pixi_project(
        self,
        manifest_file: str | Path,
        pixi_lock: Path | None = None,
        environment: str = "default",
        extra_args: str | None = None,
        secret_mounts: SecretRequest | None = None,
        project_install_mode: L.InstallMode = "dependencies_only",
    ) -> Image:
        """A pixi workspace (``pixi.toml``, a ``pyproject.toml`` with ``[tool.pixi]``, or their folder).
        Recorded in the spec; the docker builder refuses it with an explanation (pixi and conda
        channels are not package indexes it can reach)."""
        manifest = Path(manifest_file)
        if manifest.is_dir():
            manifest = manifest / "pixi.toml" if (manifest / "pixi.toml").exists() else manifest / "pyproject.toml"
        if pixi_lock is None and (manifest.parent / "pixi.lock").exists():
            pixi_lock = manifest.parent / "pixi.lock"
        return self._add(L.PixiProject(manifest=manifest, pixi_lock=pixi_lock, environment=environment,
                                       extra_args=extra_args, secret_mounts=secret_mounts,
                                       project_install_mode=project_install_mode))

    def with_code_bundle(self, copy_style: Literal["loaded_modules", "all"] = "loaded_modules",
                         dst: str = ".") -> Image:
        """Bake the run's code into the image at ``dst``: ``"all"`` files of the code root (less
        .dockerignore patterns) or only the ``"loaded_modules"`` (Python files of modules imported
        from it). Container backends still run the code each run ships, so this makes the image
        self-contained without changing what a task runs."""
        return self._add(L.CodeBundleLayer(copy_style=copy_style, dst=dst))

    def with_local_v2_plugins(self, plugins: str | list[str] | None = None) -> Image:
        """Install plugin distributions (``flyteplugins-...``) from the wheels in this checkout's
        ``dist`` folder (:data:`flyte._image.DIST_FOLDER`), as Flyte 2 does for its own checkout."""
        image = self
        for plugin in [plugins] if isinstance(plugins, str) else list(plugins or []):
            if not plugin.startswith("flyteplugins-"):
                raise ValueError(f"Plugin {plugin} must start with 'flyteplugins-'")
            image = image._add(L.PythonWheels(wheel_dir=L.DIST_FOLDER, package_name=plugin))
        return image

    def with_local_rs_controller(self) -> Image:
        """Flyte 2 bakes its Rust controller wheel here; flyte-core has no such controller (runs are
        driven by the caller's process or the backend's driver), so this is refused."""
        raise ValueError(
            "Image.with_local_rs_controller() installs Flyte 2's Rust controller, which flyte-core does not have: "
            "runs are driven by the caller's process (or the backend's driver pod); remove the call."
        )

    def with_local_v2(self) -> Image:
        """Install the flyte packages of this checkout (the default for from_debian_base)."""
        return attrs.evolve(self, install_flyte=True)

    def validate(self) -> None:
        """Check that every local file the layers name exists and has the right kind; raises
        ``FileNotFoundError`` or ``ValueError`` naming the file (builders check again when they build)."""
        if self.dockerfile is not None and not Path(self.dockerfile).is_file():
            raise FileNotFoundError(f"Dockerfile {Path(self.dockerfile).resolve()} does not exist; fix the path.")
        for layer in self.layers:
            L.validate_layer(layer.kind, layer.args)

    # --- identity --------------------------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        """A JSON-able description of the whole spec (what the content hash covers); ``registry``,
        ``name`` and ``registry_secret`` say where the image goes and how it is pulled, not what
        it holds, so they are not in it."""
        return {
            "base": self.base_image, "dockerfile": str(self.dockerfile) if self.dockerfile else None,
            "dockerfile_sha": _file_hash(self.dockerfile) if self.dockerfile else None,
            "python": list(self.python_version), "install_flyte": self.install_flyte,
            "platform": list(self.platform), "layers": [[layer.kind, layer.args] for layer in self.layers],
        }

    @property
    def tag(self) -> str:
        """A content hash of the spec: an unchanged spec has the same tag and is never rebuilt."""
        raw = json.dumps(self.spec(), sort_keys=True, default=str).encode()
        return hashlib.sha256(raw).hexdigest()[:16]

    @property
    def uri(self) -> str:
        """``<registry>/<name>:<tag>``, or the base image itself when nothing is added to it."""
        if self.base_image and not self.layers and not self.install_flyte and self.name is None:
            return self.base_image
        repo = f"{self.registry}/{self.name or 'flyte'}" if self.registry else (self.name or "flyte")
        return f"{repo}:{self.tag}"


_file_hash = L.file_hash
_dir_hash = L.dir_hash
