"""A child task's exception raised in its caller as its own type (beyond Flyte 2).

When a task raises, say, ``ValueError``, its caller gets an exception that is both a
``ValueError`` (so ``except ValueError`` catches it) and a ``flyte.errors.RuntimeUserError`` (so
Flyte 2 code catching that keeps working), carrying the child's message and traceback. The class
is built once per original class: a subclass of ``RuntimeUserError`` and of the original.

The original class is looked up by the ``module:qualname`` recorded with the error, only among
modules already imported in the caller's process (an error record never makes a process import
anything). When it is not there, is not an ``Exception``, or cannot be combined with
``RuntimeUserError`` (an incompatible layout), the caller gets a plain ``RuntimeUserError`` whose
``code`` is the original class's name.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from flyte_core.errors.core import BaseRuntimeError, RuntimeUserError

_classes: dict[type[BaseException], type[RuntimeUserError] | None] = {}
_lock = threading.Lock()


def type_path(cls: type[BaseException]) -> str:
    """How an exception class is named in an error record: ``module:qualname`` (a script's
    classes as ``__main__``, the name they have in the process that started the run)."""
    module = "__main__" if cls.__module__ == "__mp_main__" else cls.__module__
    return f"{module}:{cls.__qualname__}"


def find_class(path: str) -> type[Exception] | None:
    """The exception class ``path`` names, if its module is already imported here."""
    module, _, qualname = path.partition(":")
    obj: Any = sys.modules.get(module)
    for part in qualname.split(".") if obj is not None and qualname else ():
        if part == "<locals>":
            return None
        obj = getattr(obj, part, None)
    if isinstance(obj, type) and issubclass(obj, Exception) and not issubclass(obj, BaseRuntimeError):
        return obj
    return None


def user_error_class(original: type[Exception]) -> type[RuntimeUserError] | None:
    """The subclass of ``RuntimeUserError`` and ``original`` (cached), or None when the two
    cannot be combined."""
    with _lock:
        if original in _classes:
            return _classes[original]
        cls: type[RuntimeUserError] | None
        try:
            built: type[RuntimeUserError] = type(original.__name__, (RuntimeUserError, original), {
                "__module__": original.__module__,
                "__qualname__": original.__qualname__,
                "__doc__": f"{original.__qualname__} raised by a task, as seen by its caller "
                           "(also a flyte.errors.RuntimeUserError).",
                # RuntimeUserError's constructor and message, whatever the original's need.
                "__init__": RuntimeUserError.__init__,
                "__str__": BaseException.__str__,
                "__repr__": BaseException.__repr__,
                "__reduce__": _reduce,
                "original_type": original,
            })
            built("probe", "probe", None)  # a class whose __new__ wants other arguments cannot be made
            cls = built
        except Exception:  # e.g. an instance layout RuntimeError cannot share
            cls = None
        _classes[original] = cls
        return cls


def _reduce(self: RuntimeUserError) -> tuple[Any, ...]:
    return (_rebuild, (type(self).original_type, self.code, str(self), self.worker), self.__dict__)  # type: ignore[attr-defined]


def _rebuild(original: type[Exception], code: str, message: str, worker: str | None) -> RuntimeUserError:
    """Unpickle an exception built by :func:`user_error_class`."""
    cls = user_error_class(original) or RuntimeUserError
    return cls(code, message, worker)
