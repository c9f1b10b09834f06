"""Finding a task again from its reference (:class:`~flyte_core.task.template.TaskRef`): in a worker
process, which imports the task's module first, and in the host, where the channel server resolves
the tasks a worker calls.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from flyte_core.errors.core import CodeLoadError
from flyte_core.task.template import TaskRef, TaskTemplate
from flyte_core.worker.channel_client import MAIN_ALIAS


def load_module(ref: TaskRef, code_root: str) -> ModuleType:
    """Import the module ``ref`` names: from ``ref.file`` when given (a ``__main__`` script under
    :data:`MAIN_ALIAS`), else by name, falling back to ``code_root`` when it is not on ``sys.path``
    (a controller whose code root is not importable). Raises :class:`CodeLoadError`."""
    if not ref.file:
        try:
            try:
                return importlib.import_module(ref.module)
            except ModuleNotFoundError as e:
                if e.name is None or not (ref.module + ".").startswith(e.name + "."):
                    raise  # the module exists but imports something missing
                return _import_under(ref.module, code_root, e)
        except Exception as e:
            raise CodeLoadError(f"Could not import module '{ref.module}' (code root {code_root}): "
                                f"{type(e).__name__}: {e}") from e
    path = ref.file if os.path.isabs(ref.file) else os.path.join(code_root, ref.file)
    name = MAIN_ALIAS if ref.module == "__main__" else ref.module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or not os.path.isfile(path):
        raise CodeLoadError(f"Could not load module '{ref.module}' from file {path}: no such Python file.")
    try:
        return _execute(spec, as_main=ref.module == "__main__")
    except Exception as e:
        raise CodeLoadError(f"Could not load module '{ref.module}' from file {path}: "
                            f"{type(e).__name__}: {e}") from e


def _import_under(name: str, root: str, missing: ModuleNotFoundError) -> ModuleType:
    """Import ``name`` (parents first, as ``import`` does) from ``root`` without changing sys.path."""
    parent, _, _ = name.rpartition(".")
    search = [root]
    if parent:
        pmod = sys.modules.get(parent) or _import_under(parent, root, missing)
        search = list(getattr(pmod, "__path__", []))
    spec = importlib.machinery.PathFinder.find_spec(name, search)
    if spec is None:
        raise missing
    return _execute(spec, as_main=False)


def _execute(spec: ModuleSpec, *, as_main: bool) -> ModuleType:
    """Create and run the module of ``spec``, registered in sys.modules (undone if it fails)."""
    if spec.loader is None:
        raise ImportError(f"no loader for {spec.origin}")
    mod = importlib.util.module_from_spec(spec)
    names = (spec.name, "__main__") if as_main else (spec.name,)
    saved = {k: sys.modules.get(k) for k in names}
    for k in names:  # as __main__ too: what pickles made in the host's __main__ refer to
        sys.modules[k] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        for k, old in saved.items():
            if old is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = old
        raise
    return mod


def find_task(ref: TaskRef, code_root: str) -> TaskTemplate[Any, Any]:
    """The task ``ref`` names: from the already imported module, else after loading it."""
    mod = sys.modules.get(ref.module)
    if mod is None:
        mod = load_module(ref, code_root)
    obj = getattr(mod, ref.name, None)
    if obj is None:  # a task object bound to another name than its function's (e.g. a ContainerTask)
        obj = next((v for v in vars(mod).values()
                    if isinstance(v, TaskTemplate) and getattr(v.func, "__name__", None) == ref.name), None)
    if not isinstance(obj, TaskTemplate):
        where = f"module '{ref.module}'" + (f" (file {ref.file})" if ref.file else "")
        raise CodeLoadError(
            f"{where} has no task named '{ref.name}' at module level"
            + (f" (found {type(obj).__name__})" if obj is not None else "")
            + "; tasks must be module-level names decorated with @env.task."
        )
    return obj
