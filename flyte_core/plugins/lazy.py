"""Package attributes imported on first use, for plugin packages loaded by every ``flyte`` command.

Loading a plugin imports its package; a package that re-exports its heavy modules' names would
make every command (``flyte --help`` too) import them. ``__getattr__ = lazy_exports(__name__,
{...})`` defers each name to its first use instead.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each name of ``where`` (name -> the
    module defining it) the first time it is asked for, then keeps it in the package."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
