"""``flyte.extras.shell``: a bash script template run in a container image, with typed inputs and outputs.

``create(name, image=..., inputs=..., outputs=..., script=...)`` makes a shell task: a
:class:`~flyte_containertask.task.ContainerTask` whose command is a generated bash program. In the
script, ``{inputs.x}`` is the value of input ``x`` (quoted: one word, or one word per list item),
``{flags.x}`` the value as a command-line flag (nothing when it is unset or false), ``{outputs.y}`` the
path the script writes output ``y`` to. Everything else in the script is bash, braces included.

Values never pass through the command line as text to be parsed: ContainerTask stages each input as a
file under ``/var/inputs`` (a File in its own folder under its own name, so tools that look at the
extension see it), and the generated preamble reads them into bash variables and arrays.

It runs where ContainerTask runs: on the docker backend as a container of the image, and on the local
backends (and outside a run) through this machine's Docker engine. The image needs bash 4.4 or later
at the ``shell`` path, and nothing of Flyte's.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import shlex
import types
from typing import Any, Literal, Union, cast, get_args, get_origin

from flyte_types_files import Dir, File

from flyte_containertask.task import ContainerTask
from flyte_core.extend import Image, TaskEnvironment

__all__ = ["DictMode", "FlagSpec", "Glob", "OutputSpec", "ShellSpec", "ShellTask", "Stderr", "Stdout", "create",
           "listMode"]

INPUT_DIR = "/var/inputs"
OUTPUT_DIR = "/var/outputs"
#: Separates the keys and values of a ``dict[str, str]`` input in its staged file (bash ``mapfile -d``).
_DICT_SEP = "\x1e"
_SCALARS: tuple[type, ...] = (int, float, str)
_REF = re.compile(r"\{(inputs|flags|outputs)\.([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

listMode = Literal["join", "repeat", "comma"]  # Flyte 2's spelling
DictMode = Literal["pairs", "equals"]


@dataclasses.dataclass(frozen=True)
class Glob:
    """An output that is every file the script writes into the folder ``{outputs.name}`` whose name
    matches ``pattern``; the caller gets a ``list[File]``."""

    pattern: str = "*"


def _check_capture_type(kind: str, tp: Any) -> None:
    if tp is not File and tp not in (*_SCALARS, bool):
        raise TypeError(f"{kind}.type must be File, int, float, str or bool, got {tp!r}")


@dataclasses.dataclass(frozen=True)
class Stdout:
    """An output holding what the script prints on stdout: a File, or the text parsed as ``type``."""

    type: Any = File

    def __post_init__(self) -> None:
        _check_capture_type("Stdout", self.type)


@dataclasses.dataclass(frozen=True)
class Stderr:
    """An output holding what the script prints on stderr: a File, or the text parsed as ``type``."""

    type: Any = File

    def __post_init__(self) -> None:
        _check_capture_type("Stderr", self.type)


#: What an output is declared as: File, Dir, int, float, str, bool, or a Glob/Stdout/Stderr collector.
OutputSpec = Union[type, Glob, Stdout, Stderr]  # noqa: UP007 (a runtime alias, as in Flyte 2)


@dataclasses.dataclass(frozen=True)
class FlagSpec:
    """How ``{flags.x}`` renders input ``x``: ``flag`` (default ``-x``), and for a list ``list_mode``
    (``join``: ``flag a b``, one word per item unless ``separator`` is not a space, then one word
    ``a<sep>b``; ``repeat``: ``flag a flag b``; ``comma``: ``flag a,b``); for a ``dict[str, str]``
    ``dict_mode`` (``pairs``: ``key value ...``; ``equals``: ``key=value ...``; the keys are the flags)."""

    flag: str
    list_mode: listMode = "join"
    separator: str = " "
    dict_mode: DictMode = "pairs"

    @classmethod
    def coerce(cls, name: str, alias: str | tuple[str, str] | FlagSpec | None) -> FlagSpec:
        """A FlagSpec from a ``flag_aliases`` value: None, a flag, ``(flag, mode)``, or a FlagSpec."""
        if alias is None:
            return cls(flag=f"-{name}")
        if isinstance(alias, FlagSpec):
            return alias
        if isinstance(alias, str):
            return cls(flag=alias)
        if isinstance(alias, tuple) and len(alias) == 2:
            flag, mode = alias
            if mode in ("join", "repeat", "comma"):
                return cls(flag=flag, list_mode=cast(listMode, mode))
            if mode in ("pairs", "equals"):
                return cls(flag=flag, dict_mode=cast(DictMode, mode))
            raise TypeError(f"flag_aliases[{name!r}]: mode {mode!r} is not join/repeat/comma (lists) or "
                            "pairs/equals (dicts)")
        raise TypeError(f"flag_aliases[{name!r}] must be a flag string, (flag, mode) or a FlagSpec, got {alias!r}")


# --- input kinds -----------------------------------------------------------------------------------

def _optional(tp: Any) -> tuple[bool, Any]:
    """(True, T) for ``T | None``, else (False, tp)."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return True, args[0]
    return False, tp


def _kind(task: str, name: str, tp: Any) -> str:
    """scalar, bool, file, dir, files (``list[File]``) or dict (``dict[str, str]``)."""
    _, inner = _optional(tp)
    if inner is bool:
        return "bool"
    if inner in _SCALARS:
        return "scalar"
    if inner is File:
        return "file"
    if inner is Dir:
        return "dir"
    if get_origin(inner) is list and get_args(inner) == (File,):
        return "files"
    if get_origin(inner) is dict and get_args(inner) == (str, str):
        return "dict"
    raise TypeError(f"Shell task '{task}': input '{name}' has type {tp!r}; a shell task takes File, Dir, list[File], "
                    "dict[str, str], int, float, str, bool, or T | None of these.")


def _container_type(kind: str, tp: Any) -> Any:
    """The ContainerTask input type: optional scalars and dicts travel as text ('' for None)."""
    optional, inner = _optional(tp)
    if kind == "dict" or (optional and kind in ("scalar", "bool")):
        return str
    return inner | None if optional else inner


# --- the generated bash program ------------------------------------------------------------------

def _read_input(name: str, kind: str, input_dir: str) -> list[str]:
    """Bash lines reading staged input ``name`` into ``_VAL_name`` / ``_ARR_name``."""
    path = shlex.quote(f"{input_dir}/{name}")
    if kind in ("scalar", "bool"):  # the whole file, trailing newlines included
        return [f"IFS= read -r -d '' _VAL_{name} < {path} || true"]
    if kind == "file":  # staged as a folder holding the file under its own name; None is a plain file
        return [f"_VAL_{name}=; if [ -d {path} ]; then for _f in {path}/*; do _VAL_{name}=$_f; done; fi"]
    if kind == "dir":
        return [f"_VAL_{name}=; if [ -d {path} ]; then _VAL_{name}={path}; fi"]
    if kind == "files":  # a folder of files; an empty list or None is a plain file
        return [f"_ARR_{name}=(); if [ -d {path} ]; then _ARR_{name}=({path}/*); fi"]
    return [f"_ARR_{name}=(); if [ -s {path} ]; then mapfile -d $'{_DICT_SEP}' -t _ARR_{name} < {path}; fi"]


def _flag_lines(name: str, kind: str, spec: FlagSpec) -> list[str]:
    """Bash lines building the array ``_FLAG_name`` that ``{flags.name}`` expands to."""
    flag, arr, val = shlex.quote(spec.flag), f"_ARR_{name}", f"_VAL_{name}"
    lines = [f"_FLAG_{name}=()"]
    if kind == "bool":
        lines.append(f'if [ "${val}" = true ]; then _FLAG_{name}=({flag}); fi')
    elif kind in ("scalar", "file", "dir"):
        lines.append(f'if [ -n "${val}" ]; then _FLAG_{name}=({flag} "${val}"); fi')
    elif kind == "files":
        sep = "," if spec.list_mode == "comma" else spec.separator
        if spec.list_mode == "repeat":
            lines.append(f'for _v in "${{{arr}[@]}}"; do _FLAG_{name}+=({flag} "$_v"); done')
        elif sep == " ":
            lines.append(f'if [ ${{#{arr}[@]}} -gt 0 ]; then _FLAG_{name}=({flag} "${{{arr}[@]}}"); fi')
        else:
            lines.append(f'if [ ${{#{arr}[@]}} -gt 0 ]; then _FLAG_{name}=({flag} "$(_flyte_join {shlex.quote(sep)} '
                         f'"${{{arr}[@]}}")"); fi')
    else:  # dict: its keys are the flags
        if spec.dict_mode == "equals":
            lines.append(f'for ((_i = 0; _i + 1 < ${{#{arr}[@]}}; _i += 2)); do '
                         f'_FLAG_{name}+=("${{{arr}[_i]}}=${{{arr}[_i+1]}}"); done')
        else:
            lines.append(f'_FLAG_{name}=("${{{arr}[@]}}")')
    return lines


_PRELUDE = """set -o pipefail
shopt -s nullglob dotglob
_flyte_join() { local sep=$1 out=; shift; for v in "$@"; do out+=${out:+$sep}$v; done; printf '%s' "$out"; }"""


# --- the task -------------------------------------------------------------------------------------

@dataclasses.dataclass
class ShellSpec:
    """What :func:`create` was given (validated), and the bash program it makes."""

    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    script: str
    flag_aliases: dict[str, FlagSpec]
    defaults: dict[str, Any]
    shell: str = "/bin/bash"
    debug: bool = False

    def command(self, input_dir: str = INPUT_DIR, output_dir: str = OUTPUT_DIR) -> list[str]:
        """The container's command: ``[shell, "-c", program]`` (with the data folders it sees)."""
        kinds = {n: _kind(self.name, n, t) for n, t in self.inputs.items()}
        lines = [_PRELUDE]
        for n, k in kinds.items():
            lines += _read_input(n, k, input_dir)
            lines += _flag_lines(n, k, self.flag_aliases.get(n) or FlagSpec.coerce(n, None))
        lines += [f"mkdir -p {shlex.quote(f'{output_dir}/{n}')}" for n, spec in self.outputs.items()
                  if isinstance(spec, Glob) or spec is Dir]
        body = _REF.sub(lambda m: self._expand(m, kinds, output_dir), self.script)
        if self.debug:
            lines.append(f"printf '%s\\n' {shlex.quote(f'--- shell task {self.name}: script ---')} "
                         f"{shlex.quote(body)} >&2")
        redirects = "".join(
            f" {'>' if isinstance(spec, Stdout) else '2>'} {shlex.quote(f'{output_dir}/{n}')}"
            for n, spec in self.outputs.items() if isinstance(spec, Stdout | Stderr))
        lines.append(f"(\n{body}\n){redirects}")
        return [self.shell, "-c", "\n".join(lines)]

    def _expand(self, m: re.Match[str], kinds: dict[str, str], output_dir: str) -> str:
        section, name = m.group(1), m.group(2)
        if section == "outputs":
            if name not in self.outputs:
                raise ValueError(f"Shell task '{self.name}': the script refers to {{outputs.{name}}}, but there is "
                                 f"no output '{name}' (outputs: {', '.join(self.outputs) or 'none'}).")
            if isinstance(self.outputs[name], Stdout | Stderr):
                raise ValueError(f"Shell task '{self.name}': output '{name}' captures a stream; the script "
                                 "just prints, it does not write {outputs." + name + "}.")
            return shlex.quote(f"{output_dir}/{name}")
        if name not in kinds:
            raise ValueError(f"Shell task '{self.name}': the script refers to {{{section}.{name}}}, but there is "
                             f"no input '{name}' (inputs: {', '.join(kinds) or 'none'}).")
        if section == "flags":
            return f'"${{_FLAG_{name}[@]}}"'
        return f'"${{_ARR_{name}[@]}}"' if kinds[name] in ("files", "dict") else f'"${{_VAL_{name}}}"'

    def container_inputs(self, given: dict[str, Any]) -> dict[str, Any]:
        """The ContainerTask's inputs for a call: defaults filled in, optional scalars and dicts as text."""
        unknown = set(given) - set(self.inputs)
        if unknown:
            raise TypeError(f"Shell task '{self.name}' got unexpected input(s): {', '.join(sorted(unknown))} "
                            f"(inputs: {', '.join(self.inputs) or 'none'})")
        values = {**self.defaults, **given}
        out: dict[str, Any] = {}
        for name, tp in self.inputs.items():
            optional, _ = _optional(tp)
            kind = _kind(self.name, name, tp)
            value = values.get(name)
            if value is None and not optional:
                shown = tp.__name__ if isinstance(tp, type) else tp
                raise TypeError(f"Shell task '{self.name}': input '{name}' is required (declare it as "
                                f"{shown} | None, or give it in defaults, to make it optional)")
            if kind == "dict":
                out[name] = "".join(f"{k}{_DICT_SEP}{v}{_DICT_SEP}" for k, v in (value or {}).items())
            elif optional and kind in ("scalar", "bool"):
                out[name] = "" if value is None else str(value).lower() if kind == "bool" else str(value)
            else:
                out[name] = value
        return out

    async def user_outputs(self, raw: Any) -> Any:
        """The container's outputs as the caller sees them: a Glob's folder becomes its matching files."""
        values = list(raw) if len(self.outputs) > 1 else [raw]
        for i, spec in enumerate(self.outputs.values()):
            if isinstance(spec, Glob):
                values[i] = [f for f in await values[i].list_files() if fnmatch.fnmatch(f.name or "", spec.pattern)]
        return None if not self.outputs else values[0] if len(values) == 1 else tuple(values)


class ShellTask(ContainerTask):
    """A shell task (what :func:`create` returns): a ContainerTask running the generated bash program.
    ``await shell_task(x=...)`` fills in defaults and returns a ``Glob`` output as ``list[File]``;
    ``.env`` is its environment, for other environments' ``depends_on``."""

    def __init__(self, spec: ShellSpec, image: str | Image, **options: Any) -> None:
        self.spec = spec
        outs = {n: Dir if isinstance(s, Glob) else s.type if isinstance(s, Stdout | Stderr) else s
                for n, s in spec.outputs.items()}
        ins = {n: _container_type(_kind(spec.name, n, t), t) for n, t in spec.inputs.items()}
        super().__init__(name=spec.name, image=image, command=spec.command(), inputs=ins, outputs=outs,
                         input_data_dir=INPUT_DIR, output_data_dir=OUTPUT_DIR, file_input_layout="NAMED_DIR",
                         **options)

    def as_task(self) -> ShellTask:
        """The task itself (Flyte 2's shell objects wrap one)."""
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            raise TypeError(f"Shell task '{self.name}' takes keyword arguments only")
        return self._call(kwargs)

    async def aio(self, *args: Any, **kwargs: Any) -> Any:
        """The same as calling it (it is async already)."""
        return await self(*args, **kwargs)

    async def _call(self, kwargs: dict[str, Any]) -> Any:
        raw = await ContainerTask.__call__(self, **self.spec.container_inputs(kwargs))
        return await self.spec.user_outputs(raw)


def _check_default(task: str, name: str, tp: Any, value: Any) -> None:
    kind = _kind(task, name, tp)
    _, inner = _optional(tp)
    if kind == "file":
        ok = isinstance(value, File)
    elif kind == "dir":
        ok = isinstance(value, Dir)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "files":
        ok = isinstance(value, list) and all(isinstance(v, File) for v in value)
    elif kind == "dict":
        ok = isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    else:
        ok = not isinstance(value, bool) and (isinstance(value, inner) or (inner is float and isinstance(value, int)))
    if not ok:
        raise TypeError(f"Shell task '{task}': defaults[{name!r}] is {value!r}, not a {tp!r}")


def create(
    name: str,
    *,
    image: str | Image,
    inputs: dict[str, Any] | None = None,
    outputs: dict[str, Any] | None = None,
    script: str,
    flag_aliases: dict[str, str | tuple[str, str] | FlagSpec] | None = None,
    defaults: dict[str, Any] | None = None,
    shell: str = "/bin/bash",
    debug: bool = False,
    resources: Any = None,
    retries: int = 0,
    timeout: int | None = None,
    cache: str = "auto",
    env_vars: dict[str, str] | None = None,
    secrets: list[Any] | None = None,
    local_logs: bool = True,
) -> ShellTask:
    """A shell task running ``script`` (bash, with ``{inputs.x}``, ``{flags.x}`` and ``{outputs.y}``) in
    ``image``. Inputs: File, Dir, list[File], dict[str, str], int, float, str, bool, or ``T | None``
    (unset: empty, its flag left out). Outputs: File, Dir, int, float, str, bool (the script writes
    ``{outputs.y}``), :class:`Glob`, :class:`Stdout`, :class:`Stderr`. ``defaults`` fill inputs a call
    leaves out. ``debug`` prints the rendered script on stderr first. Every mistake is reported here,
    naming the task."""
    if not isinstance(image, str | Image):
        raise TypeError(f"Shell task '{name}': image must be an image reference or a flyte.Image, got {image!r}")
    inputs, outputs = dict(inputs or {}), dict(outputs or {})
    for n in (*inputs, *outputs):
        if not _NAME.fullmatch(n):
            raise ValueError(f"Shell task '{name}': '{n}' cannot name an input or output (letters, digits, _)")
    for n, t in inputs.items():
        _kind(name, n, t)
    for n, spec in outputs.items():
        if not (isinstance(spec, Glob | Stdout | Stderr) or spec in (File, Dir, *_SCALARS, bool)):
            raise TypeError(f"Shell task '{name}': output '{n}' is declared as {spec!r}; use File, Dir, int, float, "
                            "str, bool, Glob(pattern), Stdout() or Stderr().")
    if any(sum(isinstance(s, c) for s in outputs.values()) > 1 for c in (Stdout, Stderr)):
        raise ValueError(f"Shell task '{name}': at most one Stdout and one Stderr output")
    aliases: dict[str, FlagSpec] = {}
    for n, alias in (flag_aliases or {}).items():
        if n not in inputs:
            raise KeyError(f"Shell task '{name}': flag_aliases names '{n}', which is not an input")
        aliases[n] = FlagSpec.coerce(n, alias)
    for n, value in (defaults or {}).items():
        if n not in inputs:
            raise KeyError(f"Shell task '{name}': defaults names '{n}', which is not an input")
        if value is None:
            raise ValueError(f"Shell task '{name}': defaults[{n!r}] is None; declare the input as T | None instead")
        _check_default(name, n, inputs[n], value)
    options: dict[str, Any] = {"retries": retries, "timeout": timeout, "cache": cache, "local_logs": local_logs}
    options.update({k: v for k, v in (("resources", resources), ("env_vars", env_vars), ("secrets", secrets))
                    if v is not None})
    spec = ShellSpec(name=name, inputs=inputs, outputs=outputs, script=script, flag_aliases=aliases,
                     defaults=dict(defaults or {}), shell=shell, debug=debug)
    task = ShellTask(spec, image, **options)
    TaskEnvironment.from_task(task.env.name, task)  # so `task.env` can be listed in depends_on
    return task
