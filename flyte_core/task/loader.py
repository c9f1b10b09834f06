"""Loads the user's task file (``flyte run FILE TASK``) as a module and finds its tasks."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from flyte_core.errors.core import CodeLoadError
from flyte_core.task.template import TaskTemplate


def module_name_for(path: Path, root: Path) -> str:
    """A dotted module name for ``path``: relative to ``root`` when inside it, else its stem."""
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        return path.stem
    return ".".join(rel.with_suffix("").parts)


def load_file(path: str | Path, root: str | Path) -> ModuleType:
    """Import a Python file as a module named after its place under ``root``.

    ``root`` goes first on ``sys.path`` so the file's own imports of sibling modules work, and a
    worker process given the same root can import the same module by name.
    """
    p = Path(path)
    if not p.is_file():
        raise CodeLoadError(f"File '{path}' does not exist; pass the path of a Python file with tasks.")
    if p.suffix != ".py":
        raise CodeLoadError(f"File '{path}' is not a Python file (.py).")
    root_s = str(Path(root).resolve())
    if root_s not in sys.path:
        sys.path.insert(0, root_s)
    name = module_name_for(p, Path(root))
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(p.resolve()):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, p.resolve())
    if spec is None or spec.loader is None:
        raise CodeLoadError(f"File '{path}' cannot be imported.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except CodeLoadError:
        raise
    except Exception as e:
        del sys.modules[name]
        raise CodeLoadError(f"File '{path}' failed to import: {type(e).__name__}: {e}") from e
    return module


def tasks_in(module: ModuleType) -> dict[str, TaskTemplate[Any, Any]]:
    """The module-level tasks of ``module``, by variable name."""
    return {k: v for k, v in vars(module).items() if isinstance(v, TaskTemplate)}
