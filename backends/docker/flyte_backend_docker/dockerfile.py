"""Render a :class:`flyte_core.image.Image` spec as a Dockerfile and the files of its build context.

Pure: reads the spec's local files, talks to no engine. The caller (``images.ImageBuilder``) puts
the wheelhouse under :data:`WHEELS_DIR` and the rendered Dockerfile under :data:`DOCKERFILE` in the
context (a ``from_dockerfile`` image's own Dockerfile is one of its context files).

The default image is built in two stages: the first creates the venv at ``/opt/flyte`` and
installs our wheels from the wheelhouse; the final stage copies only the venv, so the wheels
themselves never become an image layer (a ``COPY`` followed by ``RUN rm`` would keep them).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from docker.utils.build import PatternMatcher

from flyte_core.errors import FlyteUsageError
from flyte_core.image import Image, Layer

#: Where the Dockerfile goes in the build context (a name no user folder is likely to hold).
DOCKERFILE = ".flyte-build.Dockerfile"
#: Where the caller puts the wheelhouse in the build context.
WHEELS_DIR = "wheels"
#: The venv of the default image; first on PATH so ``python`` is the venv's.
VENV = "/opt/flyte"

#: Label of the venv stage's untagged image (the final image gets ``images.LABEL``).
STAGE_LABEL = "org.flyte-core.stage"

ContextFiles = list[tuple[str, Path]]
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DockerfileError(FlyteUsageError):
    """An image spec that cannot be turned into a Dockerfile (a bad layer, a missing file)."""


def uses_venv(image: Image) -> bool:
    """True when the image gets the ``/opt/flyte`` venv: the default base, or flyte installed."""
    return image.base_image is None or image.install_flyte


def render(image: Image, base_image: str, wheel_names: list[str]) -> tuple[str, ContextFiles]:
    """The Dockerfile text and the ``(context path, local file)`` pairs of its build context.

    ``base_image`` is used when the spec has none (``Image.from_debian_base``); ``wheel_names`` are
    the distributions to install from the wheelhouse when ``image.install_flyte`` is set.
    A ``from_dockerfile`` image renders as its own Dockerfile with its folder as the context.
    """
    if image.dockerfile is not None:
        return _render_dockerfile(image.dockerfile)
    if image.base_image is not None and image.base_image.startswith("ref:"):
        raise DockerfileError(
            f"Image reference '{image.base_image[4:]}' must be resolved from the configuration's images "
            "mapping before it is built; name a concrete image instead."
        )
    base = image.base_image or base_image
    lines: list[str] = []
    files: ContextFiles = []
    if image.install_flyte:
        if not wheel_names:
            raise DockerfileError("install_flyte is set but no distributions were given to install.")
        names = " ".join(shlex.quote(n) for n in wheel_names)
        lines += [
            f"FROM {base} AS flyte-venv",
            # Labelled so the stage's leftover (untagged) image can be found and pruned.
            f"LABEL {STAGE_LABEL}=venv",
            f"RUN python3 -m venv {VENV}",
            f"COPY {WHEELS_DIR}/ /tmp/wheels/",
            f"RUN {VENV}/bin/python -m pip install --no-cache-dir --no-index --find-links /tmp/wheels {names}",
            "",
            f"FROM {base}",
            f"COPY --from=flyte-venv {VENV} {VENV}",
        ]
    else:
        lines.append(f"FROM {base}")
        if uses_venv(image):
            lines.append(f"RUN python3 -m venv {VENV}")
    if uses_venv(image):
        lines.append(f"ENV PATH={VENV}/bin:$PATH VIRTUAL_ENV={VENV}")
    ignore = _dockerignore_patterns(image.layers)
    for index, layer in enumerate(image.layers):
        render_layer = _LAYERS.get(layer.kind)
        if render_layer is None:
            raise DockerfileError(
                f"Image layer kind '{layer.kind}' is not supported by the docker image builder; "
                f"supported: {', '.join(sorted(_LAYERS))}."
            )
        step_lines, step_files = render_layer(layer.args, f"layers/{index}", ignore)
        lines += step_lines
        files += step_files
    return "\n".join(lines) + "\n", files


# --- layers ----------------------------------------------------------------------------------------

LayerRenderer = Callable[[dict[str, Any], str, list[str]], tuple[list[str], ContextFiles]]


def _pip(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    packages = " ".join(shlex.quote(p) for p in args.get("packages", []))
    return [f"RUN python3 -m pip install --no-cache-dir{_pip_options(args)} {packages}"], []


def _apt(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    packages = " ".join(shlex.quote(p) for p in args.get("packages", []))
    # noninteractive: packages such as tzdata would otherwise wait for an answer on stdin.
    return [
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
        f"{packages} && rm -rf /var/lib/apt/lists/*"
    ], []


def _requirements(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    src = _existing_file(args["file"], "with_requirements")
    dest = f"/tmp/flyte-{ctx.replace('/', '-')}-{src.name}"
    return [
        f"COPY {_json([f'{ctx}/{src.name}', dest])}",
        f"RUN python3 -m pip install --no-cache-dir{_pip_options(args)} -r {shlex.quote(dest)}",
    ], [(f"{ctx}/{src.name}", src)]


def _env(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    pairs = []
    for name, value in args.get("env_vars", {}).items():
        if not _ENV_NAME.match(name):
            raise DockerfileError(f"with_env_vars: '{name}' is not a valid environment variable name.")
        value = str(value)
        if "\n" in value:
            raise DockerfileError(f"with_env_vars: the value of '{name}' contains a newline; use one line.")
        # Double quotes keep spaces; $VARS still expand, as in any Dockerfile (PATH=/x:$PATH works).
        pairs.append(f'{name}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return ([f"ENV {' '.join(pairs)}"] if pairs else []), []


def _commands(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    lines = []
    for command in args.get("commands", []):
        # A multi-line script cannot be a shell-form RUN line; the exec form keeps its newlines.
        lines.append(f"RUN {_json(['/bin/sh', '-c', command])}" if "\n" in command else f"RUN {command}")
    return lines, []


def _workdir(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    return [f"WORKDIR {args['workdir']}"], []


def _copy(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    sources = [_existing_file(s, "with_source_file") for s in args.get("src", [])]
    dst = str(args.get("dst") or ".")
    if len(sources) > 1 and not dst.endswith("/"):
        dst += "/"  # Docker copies several sources only into a folder, which it wants spelled with "/".
    files = [(f"{ctx}/{s.name}", s) for s in sources]
    return [f"COPY {_json([name for name, _ in files] + [dst])}"], files


def _copy_dir(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    src = Path(args["src"])
    if not src.is_dir():
        raise DockerfileError(f"with_source_folder: {src} is not a folder; create it or fix the path.")
    dst = str(args.get("dst") or ".")
    if not args.get("contents_only"):
        dst = str(PurePosixPath(dst) / src.resolve().name)
    files = [(f"{ctx}/{rel}", src / rel) for rel in _included_files(src, ignore)]
    if not files:
        return [f"RUN mkdir -p {shlex.quote(dst)}"], []  # COPY of an empty source folder fails.
    return [f"COPY {_json([f'{ctx}/', dst.rstrip('/') + '/'])}"], files


def _dockerignore(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    return [], []  # Its patterns were collected up front and filter every copied folder.


def _uv_project(args: dict[str, Any], ctx: str, ignore: list[str]) -> tuple[list[str], ContextFiles]:
    pyproject = _existing_file(args["pyproject"], "with_uv_project")
    if args.get("uvlock"):
        lock = _existing_file(args["uvlock"], "with_uv_project")
        dest = f"/tmp/flyte-{ctx.replace('/', '-')}"
        files = [(f"{ctx}/pyproject.toml", pyproject), (f"{ctx}/uv.lock", lock)]
        return [
            f"COPY {ctx}/ {dest}/",
            f"RUN python3 -m pip install --no-cache-dir uv && cd {dest} && uv export --frozen --no-dev "
            "--no-emit-project --no-hashes -o requirements.txt && python3 -m pip install --no-cache-dir "
            "-r requirements.txt",
        ], files
    # Without a lock there is nothing to pin: install the declared dependencies as pip would.
    deps = tomllib.loads(pyproject.read_text()).get("project", {}).get("dependencies", [])
    if not deps:
        return [], []
    return [f"RUN python3 -m pip install --no-cache-dir {' '.join(shlex.quote(d) for d in deps)}"], []


_LAYERS: dict[str, LayerRenderer] = {
    "pip": _pip, "apt": _apt, "requirements": _requirements, "env": _env, "commands": _commands,
    "workdir": _workdir, "copy": _copy, "copy_dir": _copy_dir, "dockerignore": _dockerignore,
    "uv_project": _uv_project,
}


# --- helpers ---------------------------------------------------------------------------------------


def _pip_options(args: dict[str, Any]) -> str:
    out = ""
    if args.get("index_url"):
        out += f" --index-url {shlex.quote(args['index_url'])}"
    for url in args.get("extra_index_urls") or []:
        out += f" --extra-index-url {shlex.quote(url)}"
    if args.get("pre"):
        out += " --pre"
    if args.get("extra_args"):
        out += f" {args['extra_args']}"  # The user's own pip flags, passed as written.
    return out


def _json(items: list[str]) -> str:
    """The JSON form of COPY/RUN: survives spaces and quotes in paths."""
    return json.dumps(items)


def _existing_file(path: str, method: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise DockerfileError(f"{method}: {p} does not exist or is not a file; fix the path.")
    return p


def _dockerignore_patterns(layers: tuple[Layer, ...]) -> list[str]:
    patterns: list[str] = []
    for layer in layers:
        if layer.kind == "dockerignore":
            patterns += read_dockerignore(_existing_file(layer.args["path"], "with_dockerignore"))
    return patterns


def read_dockerignore(path: Path) -> list[str]:
    """The patterns of a ``.dockerignore`` file (comments and blank lines dropped, as docker does)."""
    return [s for s in (line.strip() for line in path.read_text().splitlines()) if s and not s.startswith("#")]


def _included_files(root: Path, patterns: list[str]) -> Iterator[str]:
    """Files under ``root`` (relative, sorted) not excluded by dockerignore ``patterns``."""
    kept = PatternMatcher(list(patterns)).walk(str(root))
    for rel in sorted(kept):
        if os.path.isfile(os.path.join(root, rel)):
            yield Path(rel).as_posix()


def _render_dockerfile(dockerfile: Path) -> tuple[str, ContextFiles]:
    if not dockerfile.is_file():
        raise DockerfileError(f"Image.from_dockerfile: {dockerfile} does not exist; fix the path.")
    folder = dockerfile.parent
    ignore_file = folder / ".dockerignore"
    patterns = read_dockerignore(ignore_file) if ignore_file.is_file() else []
    # The Dockerfile is always sent, even when .dockerignore lists it (docker does the same).
    files = [(rel, folder / rel) for rel in _included_files(folder, [*patterns, f"!{dockerfile.name}"])]
    return dockerfile.read_text(), files
