"""Image layers: :class:`Layer`, one build step, and its constructors, one per build step Flyte 2 names.

Each function takes the keyword arguments of the Flyte 2 layer class of the same name
(``PipPackages(packages=(...), index_url=...)``, ``PythonWheels(wheel_dir=..., package_name=...)``)
and returns a :class:`Layer`: a kind and JSON-able arguments, which is what the image's content hash
covers and what image builders render. ``Image.with_*`` methods build their layers here, and
``flyte._image`` re-exports these names for programs that pass a layer to ``Image.clone(addl_layer=...)``.

Local files named by a layer are hashed when the layer is made; a missing file hashes as
``"missing"`` (image definitions are also imported inside containers, where the developer's files
may be absent) and is reported by :meth:`Image.validate` or when the image is built.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

import flyte_core
from flyte_core.security.secretspec import Secret, SecretRequest, to_secrets

#: Where Flyte 2 keeps the wheels of its own checkout; here, the ``dist`` folder of flyte-core's checkout.
#: ``PythonWheels(wheel_dir=DIST_FOLDER, package_name="flyte")`` means "this checkout's flyte", which
#: every image with ``install_flyte`` already gets from the builder's wheelhouse.
DIST_FOLDER = Path(flyte_core.__file__).resolve().parent.parent / "dist"

InstallMode = Literal["dependencies_only", "install_project"]
_INSTALL_MODES = ("dependencies_only", "install_project")
#: PEP 723's reference pattern for an inline script metadata block.
_PEP723 = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")


@attrs.frozen
class Layer:
    """One build step: ``kind`` (pip, apt, requirements, env, commands, workdir, copy, ...) and its
    arguments as a JSON-able mapping."""

    kind: str
    args: dict[str, Any]


def _layer(kind: str, args: dict[str, Any]) -> Layer:
    return Layer(kind, args)


def secret_args(secret_mounts: SecretRequest | None) -> list[dict[str, Any]]:
    """``secret_mounts`` as JSON-able dicts (key, group, mount, as_env_var): which secrets a build
    step reads, never their values."""
    out = []
    for s in to_secrets(secret_mounts):
        out.append({"key": s.key, "group": s.group, "mount": str(s.mount) if s.mount else None,
                    "as_env_var": s.as_env_var})
    return out


def secrets_of(args: dict[str, Any]) -> tuple[Secret, ...]:
    """The :class:`Secret` s a layer's ``secret_mounts`` names (see :func:`secret_args`)."""
    return tuple(Secret(key=d["key"], group=d.get("group"), mount=Path(d["mount"]) if d.get("mount") else None,
                        as_env_var=None if d.get("mount") else d.get("as_env_var"))
                 for d in args.get("secret_mounts") or [])


def _urls(value: str | Sequence[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _pip_args(index_url: str | None, extra_index_urls: str | Sequence[str] | None, pre: bool,
              extra_args: str | None, secret_mounts: SecretRequest | None) -> dict[str, Any]:
    args: dict[str, Any] = {"index_url": index_url, "extra_index_urls": _urls(extra_index_urls), "pre": pre,
                            "extra_args": extra_args}
    if secret_mounts:
        args["secret_mounts"] = secret_args(secret_mounts)
    return args


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, or ``"missing"``."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def dir_hash(path: Path) -> str:
    """SHA-256 over a folder's relative file names and contents (empty folder or none: a constant)."""
    h = hashlib.sha256()
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(path)).encode())
                h.update(file_hash(p).encode())
    return h.hexdigest()


def _mode(mode: str) -> str:
    if mode not in _INSTALL_MODES:
        raise ValueError(f"project_install_mode must be one of {', '.join(_INSTALL_MODES)}, got {mode!r}")
    return mode


# --- PEP 723 ------------------------------------------------------------------------------------


def read_script_metadata(script: Path | str) -> dict[str, Any]:
    """The ``# /// script`` block of a PEP 723 script as a dict (``dependencies``, ``requires-python``,
    ``tool``); ``{}`` when the script has none.

    Raises ``FileNotFoundError`` for a missing script and ``ValueError`` for two blocks or bad TOML,
    both naming the file."""
    path = Path(script)
    try:
        text = path.read_text()
    except OSError as e:
        raise FileNotFoundError(f"Script {path} cannot be read ({e}); fix the path.") from e
    blocks = [m for m in _PEP723.finditer(text) if m.group("type") == "script"]
    if len(blocks) > 1:
        raise ValueError(f"Script {path} has {len(blocks)} '# /// script' blocks; PEP 723 allows one.")
    if not blocks:
        return {}
    content = "".join(line[2:] if line.startswith("# ") else line[1:]
                      for line in blocks[0].group("content").splitlines(keepends=True))
    try:
        return tomllib.loads(content)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"The '# /// script' block of {path} is not valid TOML: {e}") from e


def requirement_name(requirement: str) -> str:
    """The normalised project name of a requirement string (``"Flyte[x]>=2"`` -> ``"flyte"``)."""
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", m.group(1)).lower() if m else requirement.strip().lower()


def _script_metadata_or_none(script: Path) -> dict[str, Any] | None:
    try:
        return read_script_metadata(script)
    except FileNotFoundError:
        return None


# --- layers ---------------------------------------------------------------------------------------


def PipPackages(*, packages: Iterable[str] | None = None, index_url: str | None = None,
                extra_index_urls: str | Sequence[str] | None = None, pre: bool = False,
                extra_args: str | None = None, secret_mounts: SecretRequest | None = None) -> Any:
    """``pip install`` of ``packages`` with the given index options."""
    return _layer("pip", {"packages": list(packages or ()),
                          **_pip_args(index_url, extra_index_urls, pre, extra_args, secret_mounts)})


def Requirements(*, file: Path | str, index_url: str | None = None,
                 extra_index_urls: str | Sequence[str] | None = None, pre: bool = False,
                 extra_args: str | None = None, secret_mounts: SecretRequest | None = None,
                 packages: Iterable[str] | None = None) -> Any:
    """``pip install -r file`` (a ``.txt`` requirements file; its content is part of the hash)."""
    path = Path(file)
    if path.suffix != ".txt":
        raise ValueError(f"Requirements file {path} must have a .txt extension")
    return _layer("requirements", {"file": str(path), "sha256": file_hash(path),
                                   **_pip_args(index_url, extra_index_urls, pre, extra_args, secret_mounts)})


def PythonWheels(*, wheel_dir: Path | str, package_name: str, index_url: str | None = None,
                 extra_index_urls: str | Sequence[str] | None = None, pre: bool = False,
                 extra_args: str | None = None, secret_mounts: SecretRequest | None = None) -> Any:
    """Install ``package_name`` from the wheels in ``wheel_dir`` (their dependencies from the index).
    ``wheel_dir=DIST_FOLDER`` with one of flyte-core's own distributions (``flyte``) is already met by
    the image's own install and adds nothing."""
    folder = Path(wheel_dir)
    h = hashlib.sha256()
    for wheel in sorted(folder.glob("*.whl")) if folder.is_dir() else []:
        h.update(wheel.name.encode() + file_hash(wheel).encode())
    return _layer("wheels", {"wheel_dir": str(folder), "package_name": package_name, "sha256": h.hexdigest(),
                             **_pip_args(index_url, extra_index_urls, pre, extra_args, secret_mounts)})


def UVProject(*, pyproject: Path | str, uvlock: Path | str | None = None,
              index_url: str | None = None, extra_index_urls: str | Sequence[str] | None = None,
              pre: bool = False, extra_args: str | None = None, secret_mounts: SecretRequest | None = None,
              project_install_mode: InstallMode = "dependencies_only") -> Any:
    """A uv project: its locked (``uv.lock``) or declared dependencies, and with
    ``project_install_mode="install_project"`` the project itself."""
    path = Path(pyproject)
    mode = _mode(project_install_mode)
    return _layer("uv_project", {
        "pyproject": str(path), "sha256": file_hash(path), "uvlock": str(uvlock) if uvlock else None,
        "uvlock_sha256": file_hash(Path(uvlock)) if uvlock else None, "install_mode": mode,
        "project_sha256": dir_hash(path.parent) if mode == "install_project" else None,
        **_pip_args(index_url, extra_index_urls, pre, extra_args, secret_mounts)})


def UVScript(*, script: Path | str, index_url: str | None = None,
             extra_index_urls: str | Sequence[str] | None = None, pre: bool = False,
             extra_args: str | None = None, secret_mounts: SecretRequest | None = None) -> Any:
    """The dependencies a PEP 723 script declares (only its metadata block is hashed, so editing the
    script's code keeps the image)."""
    path = Path(script)
    return _layer("uv_script", {"script": str(path), "metadata": _script_metadata_or_none(path),
                                **_pip_args(index_url, extra_index_urls, pre, extra_args, secret_mounts)})


def PoetryProject(*, pyproject: Path | str, poetry_lock: Path | str | None = None,
                  extra_args: str | None = None, secret_mounts: SecretRequest | None = None,
                  project_install_mode: InstallMode = "dependencies_only") -> Any:
    """A Poetry project installed with ``poetry install`` from its lock (``--no-root`` unless
    ``project_install_mode="install_project"``)."""
    path = Path(pyproject)
    lock = Path(poetry_lock) if poetry_lock else path.parent / "poetry.lock"
    mode = _mode(project_install_mode)
    args: dict[str, Any] = {"pyproject": str(path), "sha256": file_hash(path), "poetry_lock": str(lock),
                            "lock_sha256": file_hash(lock), "extra_args": extra_args, "install_mode": mode,
                            "project_sha256": dir_hash(path.parent) if mode == "install_project" else None}
    if secret_mounts:
        args["secret_mounts"] = secret_args(secret_mounts)
    return _layer("poetry_project", args)


def PixiProject(*, manifest: Path | str, pixi_lock: Path | str | None = None,
                environment: str = "default", extra_args: str | None = None,
                secret_mounts: SecretRequest | None = None,
                project_install_mode: InstallMode = "dependencies_only") -> Any:
    """A pixi workspace (``pixi.toml`` or a ``pyproject.toml`` with ``[tool.pixi]``) and its environment."""
    path = Path(manifest)
    args: dict[str, Any] = {"manifest": str(path), "sha256": file_hash(path),
                            "pixi_lock": str(pixi_lock) if pixi_lock else None,
                            "environment": environment, "extra_args": extra_args,
                            "install_mode": _mode(project_install_mode)}
    if secret_mounts:
        args["secret_mounts"] = secret_args(secret_mounts)
    return _layer("pixi_project", args)


def PixiScript(*, script: Path | str, platforms: Sequence[str] = ("linux-64",),
               environment: str = "default", extra_args: str | None = None,
               secret_mounts: SecretRequest | None = None) -> Any:
    """A PEP 723 script with ``[tool.pixi.*]`` tables, installed as the pixi workspace it describes."""
    path = Path(script)
    args: dict[str, Any] = {"script": str(path), "metadata": _script_metadata_or_none(path),
                            "platforms": list(platforms), "environment": environment, "extra_args": extra_args}
    if secret_mounts:
        args["secret_mounts"] = secret_args(secret_mounts)
    return _layer("pixi_script", args)


def AptPackages(*, packages: Iterable[str], secret_mounts: SecretRequest | None = None) -> Any:
    """``apt-get install`` of Debian ``packages``."""
    args: dict[str, Any] = {"packages": list(packages)}
    if secret_mounts:
        args["secret_mounts"] = secret_args(secret_mounts)
    return _layer("apt", args)


def Commands(*, commands: Iterable[str], secret_mounts: SecretRequest | None = None) -> Any:
    """Shell commands run while building, each its own step."""
    args: dict[str, Any] = {"commands": list(commands)}
    if secret_mounts:
        args["secret_mounts"] = secret_args(secret_mounts)
    return _layer("commands", args)


def WorkDir(*, workdir: str) -> Any:
    """The image's working directory."""
    return _layer("workdir", {"workdir": workdir})


def DockerIgnore(*, path: Path | str) -> Any:
    """A ``.dockerignore`` whose patterns filter every folder copied into the image."""
    return _layer("dockerignore", {"path": str(path), "sha256": file_hash(Path(path))})


def Env(*, env_vars: Iterable[tuple[str, str]] = ()) -> Any:
    """Environment variables, as ``(name, value)`` pairs."""
    return _layer("env", {"env_vars": dict(sorted(dict(env_vars).items()))})


def CopyConfig(*, path_type: int, src: Path | str, dst: str = ".") -> Any:
    """Copy a local file (``path_type=0``) or folder (``path_type=1``, copied as itself under ``dst``)."""
    path = Path(src)
    if path_type == 0:
        return _layer("copy", {"src": [str(path)], "dst": dst, "sha256": [file_hash(path)]})
    if path_type == 1:
        return _layer("copy_dir", {"src": str(path), "dst": dst, "contents_only": True, "sha256": dir_hash(path)})
    raise ValueError(f"Invalid path_type {path_type}, must be 0 (file) or 1 (directory)")


def CodeBundleLayer(*, copy_style: Literal["loaded_modules", "all"] = "loaded_modules",
                    dst: str = ".") -> Any:
    """The run's code baked into the image at build time (see ``Image.with_code_bundle``)."""
    if copy_style not in ("loaded_modules", "all"):
        raise ValueError(f"copy_style must be 'loaded_modules' or 'all', got {copy_style!r}")
    return _layer("code_bundle", {"copy_style": copy_style, "dst": dst})


# --- validation -----------------------------------------------------------------------------------


def _need_file(path: str | None, what: str) -> None:
    if path is None:
        return
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} {p.resolve()} does not exist; fix the path.")
    if not p.is_file():
        raise ValueError(f"{what} {p.resolve()} is not a file.")


def validate_layer(kind: str, args: dict[str, Any]) -> None:
    """Raise ``FileNotFoundError``/``ValueError`` naming the file when a layer's local inputs are
    missing or of the wrong kind; what Flyte 2's ``Image.validate`` checks."""
    if kind == "requirements":
        _need_file(args["file"], "Requirements file")
    elif kind == "uv_project":
        _need_file(args["pyproject"], "pyproject.toml file")
        _need_file(args.get("uvlock"), "uv.lock file")
    elif kind == "poetry_project":
        _need_file(args["pyproject"], "pyproject.toml file")
        _need_file(args["poetry_lock"], "poetry.lock file")
    elif kind == "pixi_project":
        _need_file(args["manifest"], "Pixi manifest")
        if Path(args["manifest"]).name not in ("pixi.toml", "pyproject.toml"):
            raise ValueError(f"Pixi manifest {args['manifest']} must be named 'pixi.toml' or 'pyproject.toml'.")
        _need_file(args.get("pixi_lock"), "Pixi lock file")
    elif kind in ("uv_script", "pixi_script"):
        _need_file(args["script"], "Script")
        if Path(args["script"]).suffix != ".py":
            raise ValueError(f"Script {args['script']} must have a .py extension.")
        read_script_metadata(args["script"])
    elif kind == "copy":
        for src in args.get("src", []):
            _need_file(src, "Source file")
    elif kind == "copy_dir":
        if not Path(args["src"]).is_dir():
            raise FileNotFoundError(f"Source folder {Path(args['src']).resolve()} does not exist or is not a folder.")
    elif kind == "dockerignore":
        _need_file(args["path"], ".dockerignore file")
    elif kind == "wheels" and not is_own_wheels(args) and not any(Path(args["wheel_dir"]).glob("*.whl")):
        raise FileNotFoundError(f"Wheel folder {args['wheel_dir']} has no .whl files; build the wheels first.")


def is_own_wheels(args: dict[str, Any]) -> bool:
    """True for a ``PythonWheels`` layer that names flyte-core's own ``flyte`` from :data:`DIST_FOLDER`
    (Flyte 2's way of saying "install this checkout's flyte"): the image's own install covers it."""
    same_dir = Path(args["wheel_dir"]).resolve() == DIST_FOLDER
    return same_dir and requirement_name(args["package_name"]) in ("flyte", "flyte-core")
