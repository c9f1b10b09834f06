"""Render a :class:`flyte_core.images.spec.Image` spec as a Dockerfile and the files of its build context.

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
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import attrs
from docker.utils.build import PatternMatcher

from flyte_core.extend import (
    FlyteUsageError,
    Image,
    Layer,
    Secret,
    bundle_files,
    is_own_wheels,
    read_script_metadata,
    requirement_name,
    secrets_of,
)

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


@attrs.frozen
class Segment:
    """A Dockerfile built with its own context; every segment after the first starts ``FROM``
    :data:`PREVIOUS`, which the builder replaces with the id of the image the step before made."""

    text: str
    files: ContextFiles


@attrs.frozen
class SecretStep:
    """A shell command that needs build secrets: run in a container of the previous image with the
    secrets bind-mounted (never in the image's layers, config or history), then committed."""

    command: str
    secrets: tuple[Secret, ...]


Step = Segment | SecretStep
#: Placeholder for the previous step's image in a segment's ``FROM`` line.
PREVIOUS = "flyte-build-previous-step"
#: Where a build step's secrets are mounted (read-only): files by secret id, plus the env script.
SECRETS_DIR = "/etc/flyte/secrets"
#: The shell script (in :data:`SECRETS_DIR`) that exports a step's environment-variable secrets.
SECRETS_ENV = ".flyte-build-env"
#: Where own wheels are put for the final reinstall (removed in the same step).
OWN_WHEELS = "/tmp/flyte-own-wheels"
#: The last step of an image that installs flyte-core: records the plugins' entry points in its venv, so
#: each task container's worker finds them without scanning every distribution
#: (flyte_core.plugins.entrypoints; a copy between stages would change the files' times it checks).
FREEZE_ENTRY_POINTS = "python3 -m flyte_core.plugins.entrypoints >/dev/null"
#: Layer kinds that can install Python packages, after which flyte-core's own packages are
#: reinstalled so that a dependency on Flyte 2's ``flyte`` distribution cannot replace them.
INSTALLING = frozenset({"pip", "requirements", "uv_project", "uv_script", "poetry_project", "wheels", "commands"})


def render(image: Image, base_image: str, wheel_names: list[str], own_names: list[str] | None = None,
           code_root: Path | None = None) -> tuple[str, ContextFiles]:
    """The Dockerfile text and the ``(context path, local file)`` pairs of its build context.

    ``base_image`` is used when the spec has none (``Image.from_debian_base``); ``wheel_names`` are
    the distributions to install from the wheelhouse when ``image.install_flyte`` is set, and
    ``own_names`` (default: all of them) those reinstalled last. A ``from_dockerfile`` image renders as
    its own Dockerfile with its folder as the context. An image whose layers use ``secret_mounts``
    needs several steps: see :func:`render_plan`.
    """
    plan = render_plan(image, base_image, wheel_names, own_names, code_root)
    if len(plan) != 1 or not isinstance(plan[0], Segment):
        raise DockerfileError("This image has build steps with secret_mounts; render it with render_plan().")
    return plan[0].text, plan[0].files


def render_plan(image: Image, base_image: str, wheel_names: list[str], own_names: list[str] | None = None,
                code_root: Path | None = None) -> list[Step]:
    """The build of ``image`` as steps: Dockerfile segments and, for each RUN of a layer with
    ``secret_mounts``, a :class:`SecretStep`. Without secret mounts it is one segment.
    ``code_root`` is what ``with_code_bundle`` bakes in (default: the current folder)."""
    if image.dockerfile is not None:
        text, files = _render_dockerfile(image.dockerfile)
        return [Segment(text, files)]
    if image.base_image is not None and image.base_image.startswith("ref:"):
        raise DockerfileError(
            f"Image reference '{image.base_image[4:]}' must be resolved from the configuration's images "
            "mapping before it is built; name a concrete image instead."
        )
    base = image.base_image or base_image
    own = wheel_names if own_names is None else own_names
    if image.install_flyte and not wheel_names:
        raise DockerfileError("install_flyte is set but no distributions were given to install.")
    builder = _PlanBuilder(_venv_stage(base, wheel_names) if image.install_flyte else [])
    if image.install_flyte:
        builder.lines += [f"FROM {base}", f"COPY --from=flyte-venv {VENV} {VENV}"]
    else:
        builder.lines.append(f"FROM {base}")
        if uses_venv(image):
            builder.lines.append(f"RUN python3 -m venv {VENV}")
    if uses_venv(image):
        builder.lines.append(f"ENV PATH={VENV}/bin:$PATH VIRTUAL_ENV={VENV}")
    ignore = _dockerignore_patterns(image.layers)
    context = RenderContext(ignore=ignore, venv=uses_venv(image), code_root=code_root, own=own)
    for index, layer in enumerate(image.layers):
        render_layer = _LAYERS.get(layer.kind)
        if render_layer is None:
            raise DockerfileError(
                f"Image layer kind '{layer.kind}' is not supported by the docker image builder; "
                f"supported: {', '.join(sorted(_LAYERS))}."
            )
        step_lines, step_files = render_layer(layer.args, f"layers/{index}", context)
        secrets = secrets_of(layer.args)
        builder.files += step_files
        for line in step_lines:
            command = _run_command(line) if secrets else None
            if command is None:
                builder.lines.append(line)
            else:
                builder.secret_step(SecretStep(command, secrets))
    if image.install_flyte and own and any(layer.kind in INSTALLING for layer in image.layers):
        builder.own_last(base, wheel_names, own)
    if image.install_flyte:  # in the final stage, last: the record must match the files as they end up
        builder.lines.append(f"RUN {FREEZE_ENTRY_POINTS}")
    return builder.finish()


class _PlanBuilder:
    """Collects Dockerfile lines into segments, cut at each secret step."""

    def __init__(self, stage: list[str]) -> None:
        self.stage = stage  # the venv stage, repeated in a later segment that reinstalls our wheels
        self.lines: list[str] = list(stage)
        self.files: ContextFiles = []
        self.steps: list[Step] = []

    def secret_step(self, step: SecretStep) -> None:
        self.steps.append(Segment("\n".join(self.lines) + "\n", self.files))
        self.steps.append(step)
        self.lines, self.files = [f"FROM {PREVIOUS}"], []

    def own_last(self, base: str, wheel_names: list[str], own: list[str]) -> None:
        if self.steps:  # a later segment: the venv stage (a cache hit) must be part of it again
            self.lines = [*self.stage, *self.lines]
        wheels = " ".join(f"/tmp/wheels/{_wheel_prefix(n)}-*.whl" for n in own)
        self.lines += [
            # Our own wheels again, installed last: a user package that depends on Flyte 2's `flyte`
            # distribution has installed it over our `flyte` package; uninstall it, then restore ours.
            f"COPY --from=flyte-venv {wheels} {OWN_WHEELS}/",
            f"RUN python3 -m pip uninstall -y -q flyte && python3 -m pip install --no-cache-dir --no-index "
            f"--no-deps --force-reinstall {OWN_WHEELS}/*.whl && rm -rf {OWN_WHEELS}",
        ]

    def finish(self) -> list[Step]:
        return [*self.steps, Segment("\n".join(self.lines) + "\n", self.files)]


def _venv_stage(base: str, wheel_names: list[str]) -> list[str]:
    names = " ".join(shlex.quote(n) for n in wheel_names)
    return [
        f"FROM {base} AS flyte-venv",
        # Labelled so the stage's leftover (untagged) image can be found and pruned.
        f"LABEL {STAGE_LABEL}=venv",
        f"RUN python3 -m venv {VENV}",
        f"COPY {WHEELS_DIR}/ /tmp/wheels/",
        f"RUN {VENV}/bin/python -m pip install --no-cache-dir --no-index --find-links /tmp/wheels {names}",
        "",
    ]


def _wheel_prefix(distribution: str) -> str:
    """The file-name prefix of a distribution's wheels (``flyte-core`` -> ``flyte_core``)."""
    return re.sub(r"[-_.]+", "_", distribution).lower()


def _run_command(line: str) -> str | None:
    """The shell command of a ``RUN`` line (shell or ``/bin/sh -c`` exec form), else None."""
    if not line.startswith("RUN "):
        return None
    rest = line[4:]
    if rest.startswith("["):
        argv = json.loads(rest)
        return str(argv[2]) if argv[:2] == ["/bin/sh", "-c"] else shlex.join(argv)
    return rest


@attrs.frozen
class RenderContext:
    """What layer renderers need beyond their own arguments."""

    ignore: list[str]
    venv: bool
    code_root: Path | None = None
    own: list[str] = attrs.Factory(list)


# --- layers ----------------------------------------------------------------------------------------

LayerRenderer = Callable[[dict[str, Any], str, RenderContext], tuple[list[str], ContextFiles]]


def _tmp(ctx: str) -> str:
    """A build-time folder for a layer's context files (removed by the step that uses them)."""
    return f"/tmp/flyte-{ctx.replace('/', '-')}"


def _pip_install(args: dict[str, Any], what: str) -> str:
    return f"python3 -m pip install --no-cache-dir{_pip_options(args)} {what}"


def _pip(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    packages = " ".join(shlex.quote(p) for p in args.get("packages", []))
    if not packages:
        return [], []
    return [f"RUN {_pip_install(args, packages)}"], []


def _apt(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    packages = " ".join(shlex.quote(p) for p in args.get("packages", []))
    # noninteractive: packages such as tzdata would otherwise wait for an answer on stdin.
    return [
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
        f"{packages} && rm -rf /var/lib/apt/lists/*"
    ], []


def _requirements(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    src = _existing_file(args["file"], "with_requirements")
    dest = f"{_tmp(ctx)}-{src.name}"
    return [
        f"COPY {_json([f'{ctx}/{src.name}', dest])}",
        f"RUN {_pip_install(args, '-r ' + shlex.quote(dest))} && rm -f {shlex.quote(dest)}",
    ], [(f"{ctx}/{src.name}", src)]


def _env(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
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


def _commands(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    lines = []
    for command in args.get("commands", []):
        # A multi-line script cannot be a shell-form RUN line; the exec form keeps its newlines.
        lines.append(f"RUN {_json(['/bin/sh', '-c', command])}" if "\n" in command else f"RUN {command}")
    return lines, []


def _workdir(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    return [f"WORKDIR {args['workdir']}"], []


def _copy(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    sources = [_existing_file(s, "with_source_file") for s in args.get("src", [])]
    dst = str(args.get("dst") or ".")
    if len(sources) > 1 and not dst.endswith("/"):
        dst += "/"  # Docker copies several sources only into a folder, which it wants spelled with "/".
    files = [(f"{ctx}/{s.name}", s) for s in sources]
    return [f"COPY {_json([name for name, _ in files] + [dst])}"], files


def _copy_dir(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    src = Path(args["src"])
    if not src.is_dir():
        raise DockerfileError(f"with_source_folder: {src} is not a folder; create it or fix the path.")
    dst = str(args.get("dst") or ".")
    if not args.get("contents_only"):
        dst = str(PurePosixPath(dst) / src.resolve().name)
    files = [(f"{ctx}/{rel}", src / rel) for rel in _included_files(src, rc.ignore)]
    return _copy_files(files, ctx, dst), files


def _copy_files(files: ContextFiles, ctx: str, dst: str) -> list[str]:
    if not files:
        return [f"RUN mkdir -p {shlex.quote(dst)}"]  # COPY of an empty source folder fails.
    return [f"COPY {_json([f'{ctx}/', dst.rstrip('/') + '/'])}"]


def _dockerignore(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    return [], []  # Its patterns were collected up front and filter every copied folder.


def _project_files(pyproject: Path, ctx: str, rc: RenderContext, keep: list[Path]) -> ContextFiles:
    """Every file of a project folder (less .dockerignore patterns), plus ``keep`` even if ignored."""
    folder = pyproject.parent
    files = [(f"{ctx}/{rel}", folder / rel) for rel in _included_files(folder, rc.ignore)]
    names = {name for name, _ in files}
    return files + [(f"{ctx}/{k.name}", k) for k in keep if f"{ctx}/{k.name}" not in names]


def _uv_project(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    pyproject = _existing_file(args["pyproject"], "with_uv_project")
    lock = _existing_file(args["uvlock"], "with_uv_project") if args.get("uvlock") else None
    install_project = args.get("install_mode") == "install_project"
    dest = _tmp(ctx)
    if install_project:
        files = _project_files(pyproject, ctx, rc, [pyproject, *([lock] if lock else [])])
    else:
        files = [(f"{ctx}/pyproject.toml", pyproject), *([(f"{ctx}/uv.lock", lock)] if lock else [])]
    lines = [f"COPY {ctx}/ {dest}/"]
    if lock is not None:
        # uv turns the lock into pinned requirements; it runs from a throwaway folder, not the image.
        steps = ["python3 -m pip install --no-cache-dir -q --target /tmp/flyte-uv uv",
                 f"cd {dest} && PYTHONPATH=/tmp/flyte-uv python3 -m uv export --frozen --no-dev --no-emit-project "
                 "--no-hashes -o /tmp/flyte-uv-requirements.txt",
                 _pip_install(args, "-r /tmp/flyte-uv-requirements.txt")]
        if install_project:
            steps.append(_pip_install(args, f"--no-deps {dest}"))
        steps.append(f"rm -rf /tmp/flyte-uv /tmp/flyte-uv-requirements.txt {dest}")
        return [*lines, "RUN " + " && ".join(steps)], files
    if install_project:
        return [*lines, f"RUN {_pip_install(args, dest)} && rm -rf {dest}"], files
    # Without a lock there is nothing to pin: install the declared dependencies as pip would.
    deps = tomllib.loads(pyproject.read_text()).get("project", {}).get("dependencies", [])
    if not deps:
        return [], []
    return [f"RUN {_pip_install(args, ' '.join(shlex.quote(d) for d in deps))}"], []


def _uv_script(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    script = _existing_file(args["script"], "Image.from_uv_script")
    try:
        metadata = read_script_metadata(script)
    except ValueError as e:
        raise DockerfileError(f"Image.from_uv_script: {e}") from e
    lines: list[str] = []
    files: ContextFiles = []
    requirements: list[str] = []
    for index, dep in enumerate(metadata.get("dependencies", [])):
        if requirement_name(dep) in _OWN_NAMES:
            continue  # the script's `flyte` is the SDK, which this project provides in every image
        if "file://" in dep:  # a local project (`name @ file:///path`): copied in and installed
            folder = Path(dep.split("file://", 1)[1])
            if not (folder / "pyproject.toml").is_file() and not (folder / "setup.py").is_file():
                raise DockerfileError(f"Image.from_uv_script: {script} depends on {dep}, but {folder} is not a "
                                      "Python project (no pyproject.toml or setup.py).")
            sub = f"{ctx}/local-{index}"
            found = [(f"{sub}/{rel}", folder / rel) for rel in _included_files(folder, rc.ignore)]
            files += found
            lines.append(f"COPY {sub}/ {_tmp(sub)}/")
            requirements.append(_tmp(sub))
        else:
            requirements.append(shlex.quote(dep))
    if not requirements:
        return [], []
    cleanup = [r for r in requirements if r.startswith("/tmp/flyte-")]
    tail = f" && rm -rf {' '.join(cleanup)}" if cleanup else ""
    return [*lines, f"RUN {_pip_install(args, ' '.join(requirements))}{tail}"], files


def _poetry_project(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    pyproject = _existing_file(args["pyproject"], "with_poetry_project")
    lock = _existing_file(args["poetry_lock"], "with_poetry_project")
    extra = args.get("extra_args") or ""
    if args.get("install_mode") == "install_project":
        # Poetry installs the project itself as a path (editable) install: its folder stays in the image.
        dest = f"/opt/flyte-projects/{pyproject.parent.resolve().name}"
        files = _project_files(pyproject, ctx, rc, [pyproject, lock])
    else:
        dest = _tmp(ctx)
        files = [(f"{ctx}/pyproject.toml", pyproject), (f"{ctx}/poetry.lock", lock)]
        if "--no-root" not in extra.split():
            extra = f"{extra} --no-root".strip()
    # Poetry itself lives in a throwaway venv; it installs into the image's active venv (VIRTUAL_ENV)
    # or, without one, into the interpreter's environment (virtualenvs.create false).
    steps = ["python3 -m venv /tmp/flyte-poetry", "/tmp/flyte-poetry/bin/pip install --no-cache-dir -q poetry",
             f"cd {dest} && POETRY_VIRTUALENVS_CREATE=false /tmp/flyte-poetry/bin/poetry install --no-interaction "
             f"{extra}".rstrip(),
             "rm -rf /tmp/flyte-poetry" + ("" if dest.startswith("/opt/") else f" {dest}")]
    return [f"COPY {ctx}/ {dest}/", "RUN " + " && ".join(steps)], files


def _pixi(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    what = args.get("manifest") or args.get("script")
    raise DockerfileError(
        f"The docker image builder cannot install the pixi workspace {what}: pixi and the conda channels it "
        "resolves from are not package indexes this builder uses. Install the packages with "
        "with_pip_packages/with_uv_project, or build the environment in your own Dockerfile "
        "(Image.from_dockerfile) or base image (Image.from_base)."
    )


def _wheels(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    if is_own_wheels(args):
        return [], []  # "this checkout's flyte": already installed from the builder's wheelhouse
    folder = Path(args["wheel_dir"])
    wheels = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if not wheels:
        raise DockerfileError(f"PythonWheels: {folder} holds no .whl files; build the wheels (e.g. `python -m "
                              f"build --wheel -o {folder}`) or fix wheel_dir.")
    dest = _tmp(ctx)
    files = [(f"{ctx}/{w.name}", w) for w in wheels]
    what = f"--find-links {dest} {shlex.quote(args['package_name'])}"
    return [f"COPY {ctx}/ {dest}/", f"RUN {_pip_install(args, what)} && rm -rf {dest}"], files


def _code_bundle(args: dict[str, Any], ctx: str, rc: RenderContext) -> tuple[list[str], ContextFiles]:
    root = Path(rc.code_root or Path.cwd()).resolve()
    if args.get("copy_style") == "all":
        rels = [rel for rel in bundle_files(root) if rel in set(_included_files(root, rc.ignore))]
    else:
        rels = sorted({Path(f).resolve().relative_to(root).as_posix() for f in _loaded_module_files(root)})
    files = [(f"{ctx}/{rel}", root / rel) for rel in rels]
    return _copy_files(files, ctx, str(args.get("dst") or ".")), files


def _loaded_module_files(root: Path) -> Iterator[str]:
    """Source files of the modules imported from under ``root`` (what ``loaded_modules`` bakes)."""
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and os.path.isfile(path) and Path(path).resolve().is_relative_to(root):
            parts = Path(path).resolve().relative_to(root).parts
            if not any(p in (".venv", ".nox", "site-packages") for p in parts):
                yield path


_OWN_NAMES = frozenset({"flyte", "flyte-core"})

_LAYERS: dict[str, LayerRenderer] = {
    "pip": _pip, "apt": _apt, "requirements": _requirements, "env": _env, "commands": _commands,
    "workdir": _workdir, "copy": _copy, "copy_dir": _copy_dir, "dockerignore": _dockerignore,
    "uv_project": _uv_project, "uv_script": _uv_script, "poetry_project": _poetry_project,
    "pixi_project": _pixi, "pixi_script": _pixi, "wheels": _wheels, "code_bundle": _code_bundle,
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
