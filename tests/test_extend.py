"""flyte_core.extend, the plugin API: every name it lists resolves, is documented, and is what a type
checker sees; an unknown name says where the API is."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import flyte_core.extend as extend

SOURCE = Path(extend.__file__).read_text()


def _type_checking_imports() -> dict[str, tuple[str, str]]:
    """The ``if TYPE_CHECKING:`` imports of extend.py: name -> (module, attribute)."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(SOURCE).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module is not None
                for alias in imp.names:
                    found[alias.asname or alias.name] = (imp.module, alias.name)
    return found


def test_all_is_unique_and_sorted_by_section() -> None:
    assert len(extend.__all__) == len(set(extend.__all__)), "a name is listed twice in __all__"
    assert "hookimpl" in extend.__all__ and "Backend" in extend.__all__


@pytest.mark.parametrize("name", extend.__all__)
def test_every_name_resolves_and_is_documented(name: str) -> None:
    value = getattr(extend, name)
    assert value is not None
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value), f"flyte_core.extend.{name} has no docstring"
    else:  # a constant or type alias: a ``#:`` comment where it is defined, or the overview
        module, attr = extend._WHERE[name]
        lines = Path(importlib.import_module(module).__file__ or "").read_text().splitlines()
        where = next(i for i, line in enumerate(lines) if re.match(rf"{attr}\b[^=]*=", line))
        assert lines[where - 1].startswith("#:") or f"`{name}`" in (extend.__doc__ or ""), \
            f"flyte_core.extend.{name} ({module}.{attr}) is documented neither where it is defined nor in the overview"


def test_type_checkers_see_the_same_names_as_runtime() -> None:
    assert _type_checking_imports() == extend._WHERE
    assert set(extend._WHERE) == set(extend.__all__)


def test_an_unknown_name_points_at_the_api() -> None:
    with pytest.raises(AttributeError, match=r"flyte_core\.extend\.__all__"):
        extend.no_such_name  # noqa: B018
    assert set(extend.__all__) <= set(dir(extend))


def test_flyte2_names_are_offered() -> None:
    """Flyte 2's ``flyte.extend`` names that fit the core's parts."""
    from flyte_core.task.template import TaskTemplate

    assert extend.TaskTemplate is TaskTemplate and extend.AsyncFunctionTaskTemplate is TaskTemplate
    assert extend.ImageBuilder.__name__ == "ImageBuilder"


def test_importing_the_api_is_cheap() -> None:
    """Every plugin module imports flyte_core.extend, and every worker process imports the installed
    plugins: the API module itself imports no part of the core until a name is used."""
    import subprocess
    import sys

    code = ("import sys, flyte_core.extend; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flyte_core', 'cattrs', 'click', 'pluggy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['flyte_core', 'flyte_core.extend']"
