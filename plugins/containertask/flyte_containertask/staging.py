"""Inputs and outputs of a container task as files, the way Flyte's CoPilot lays them out.

Inputs: each input ``x`` is the file ``<input_data_dir>/x`` (a scalar's text, a File's bytes, a Dir's
tree; a ``list[File]`` a folder of files named 0, 1, ... or, with ``file_input_layout="NAMED_DIR"``, by
their own names), plus one metadata file of every input (``inputs.json`` or ``inputs.yaml``, as
``metadata_format`` says). ``{{.inputs.x}}`` in the command and arguments is replaced by the value
(``true``/``false`` for booleans, the path in the container for files and folders).

Outputs: each output ``y`` is read from ``<output_data_dir>/y``: a scalar parsed from its text, a File
or Dir uploaded from there.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path
from typing import Any

import yaml
from flyte_types_files import Dir, File

_TEMPLATE = re.compile(r"\{\{\s*\.inputs\.([A-Za-z0-9_]+)\s*\}\}")
_TIMEDELTA = re.compile(r"(?:(\d+) days?, )?(?:(\d+):)?(\d+):(\d+)(?:\.(\d+))?")


def scalar_text(value: Any) -> str:
    """How a scalar input is written (in a file and in the command): booleans lower-case, datetimes ISO."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def render(parts: list[str], values: dict[str, Any], container_paths: dict[str, str], task: str) -> list[str]:
    """The command with every ``{{.inputs.x}}`` replaced."""
    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in container_paths:
            return container_paths[key]
        if key not in values:
            raise ValueError(f"ContainerTask '{task}': the command refers to {{{{.inputs.{key}}}}}, but the task "
                             f"has no input '{key}' (inputs: {', '.join(sorted(values)) or 'none'}).")
        return scalar_text(values[key])

    return [_TEMPLATE.sub(sub, p) for p in parts]


def stage_inputs(values: dict[str, Any], host_dir: Path, container_dir: str, metadata_format: str,
                 named_dir: bool) -> dict[str, str]:
    """Write every input under ``host_dir``; returns the container path of each file/folder input."""
    host_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    metadata: dict[str, Any] = {}
    for key, value in values.items():
        target = host_dir / key
        inside = f"{container_dir.rstrip('/')}/{key}"
        if isinstance(value, File):
            if named_dir:
                target.mkdir()
                value.download_sync(target / (value.name or os.path.basename(value.path) or "0"))
            else:
                value.download_sync(target)
            paths[key] = metadata[key] = inside
        elif isinstance(value, Dir):
            value.download_sync(target)
            paths[key] = metadata[key] = inside
        elif isinstance(value, list) and value and all(isinstance(v, File) for v in value):
            target.mkdir()
            used: set[str] = set()
            for i, item in enumerate(value):
                name = str(i)
                if named_dir:
                    base = name = item.name or os.path.basename(item.path) or str(i)
                    n = 1
                    while name in used:
                        name, n = f"{n}_{base}", n + 1
                    used.add(name)
                item.download_sync(target / name)
            paths[key] = metadata[key] = inside
        else:
            target.write_text(scalar_text(value))
            metadata[key] = _plain(value)
    if metadata_format == "JSON":
        (host_dir / "inputs.json").write_text(json.dumps(metadata, indent=2))
    elif metadata_format == "YAML":
        (host_dir / "inputs.yaml").write_text(yaml.safe_dump(metadata))
    return paths


def _plain(value: Any) -> Any:
    """A JSON/YAML-safe form of an input for the metadata file."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return scalar_text(value)


def read_outputs(outputs: dict[str, Any], host_dir: Path, task: str) -> tuple[Any, ...]:
    """Every declared output, read from ``host_dir``, in declaration order."""
    found: list[Any] = []
    for key, kind in outputs.items():
        path = host_dir / key
        if not path.exists():
            raise ValueError(f"ContainerTask '{task}' wrote no output '{key}': its command must write the file "
                             f"'{key}' in its output_data_dir.")
        if isinstance(kind, type) and issubclass(kind, File):
            found.append(File.from_local_sync(path))
        elif isinstance(kind, type) and issubclass(kind, Dir):
            found.append(Dir.from_local_sync(path))
        else:
            found.append(_parse(path.read_text(), kind, task, key))
    return tuple(found)


def _parse(text: str, kind: Any, task: str, key: str) -> Any:
    try:
        if kind is bool:
            return text.strip().lower() != "false"
        if kind is datetime.datetime:
            return datetime.datetime.fromisoformat(text.strip())
        if kind is datetime.timedelta:
            return _timedelta(text.strip())
        if kind is str:
            return text
        return kind(text.strip())
    except (TypeError, ValueError) as e:
        raise ValueError(f"ContainerTask '{task}': output '{key}' holds {text[:80]!r}, which is not a "
                         f"{getattr(kind, '__name__', kind)} ({e}).") from None


def _timedelta(text: str) -> datetime.timedelta:
    m = _TIMEDELTA.fullmatch(text)
    if not m:
        raise ValueError("expected [D day[s], ][H:]MM:SS[.ffffff]")
    days, hours, minutes, seconds, micro = (int(g) if g else 0 for g in m.groups())
    return datetime.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds, microseconds=micro)
