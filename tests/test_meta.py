"""Meta-tests that keep the plugin contract honest.

Every hook is documented in docs/hooks.md with the signature it really has, has a docstring and is
exercised by some test; every ``flyte`` entry point installed loads; every plugin distribution in
the repository declares its entry points in the group ``flyte`` and nowhere else.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import inspect
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flyte_core.plugins import hookspecs
from flyte_core.plugins.manager import ENTRY_POINT_GROUP

REPO = Path(__file__).resolve().parents[1]
HOOKS_DOC = REPO / "docs" / "hooks.md"
#: Folders holding one plugin distribution each, plus the example third-party plugin.
PLUGIN_PROJECTS = ["backends/*", "plugins/*", "typeplugins/*", "examples/plugin-example"]
#: Where tests live: the core's and each plugin's own.
TEST_GLOBS = ["tests/**/*.py", "backends/*/tests/**/*.py", "plugins/*/tests/**/*.py",
              "typeplugins/*/tests/**/*.py"]


def _specs() -> dict[str, Callable[..., Any]]:
    return {
        name: fn for name, fn in vars(hookspecs).items()
        if name.startswith("flyte_") and inspect.isfunction(fn)
        and getattr(fn, f"{hookspecs.PROJECT}_spec", None) is not None
    }


SPECS = _specs()


def _norm(annotation: str) -> str:
    """One spelling per annotation (``X|None`` and ``X | None`` compare equal)."""
    return ast.unparse(ast.parse(annotation, mode="eval"))


def _shape(params: list[tuple[str, str | None]], returns: str | None) -> tuple[Any, ...]:
    return (tuple((n, _norm(a) if a else None) for n, a in params), _norm(returns) if returns else None)


def _spec_shape(fn: Callable[..., Any]) -> tuple[Any, ...]:
    sig = inspect.signature(fn)
    params = []
    for p in sig.parameters.values():
        ann = p.annotation
        assert isinstance(ann, str), f"{fn.__name__}: annotations must be strings (from __future__ import)"
        params.append((p.name, ann))
    ret = sig.return_annotation
    assert isinstance(ret, str), f"{fn.__name__} needs a return annotation"
    return _shape(params, ret)


def render(fn: Callable[..., Any]) -> str:
    """The one-line signature docs/hooks.md shows for a hookspec."""
    sig = inspect.signature(fn)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {fn.__name__}({params}) -> {sig.return_annotation}:"


def _documented() -> dict[str, str]:
    """Hook name -> the ``def`` line of the first python block under its ``### name`` heading."""
    text = HOOKS_DOC.read_text()
    found: dict[str, str] = {}
    for m in re.finditer(r"^### (flyte_\w+)\s*$(.*?)(?=^#{1,3} |\Z)", text, re.M | re.S):
        block = re.search(r"```python\n(.*?)```", m.group(2), re.S)
        if block:
            defs = [ln.strip() for ln in block.group(1).splitlines() if ln.strip().startswith("def ")]
            if defs:
                found[m.group(1)] = defs[0]
    return found


def _doc_shape(line: str) -> tuple[Any, ...]:
    tree = ast.parse(line + " ...")
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    params = [(a.arg, ast.unparse(a.annotation) if a.annotation else None)
              for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    return _shape(params, ast.unparse(fn.returns) if fn.returns else None)


def test_there_are_hookspecs() -> None:
    assert len(SPECS) >= 5, SPECS


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_documented_with_its_signature(name: str) -> None:
    documented = _documented()
    assert name in documented, f"docs/hooks.md has no '### {name}' section with a python code block"
    assert _doc_shape(documented[name]) == _spec_shape(SPECS[name]), (
        f"docs/hooks.md shows {documented[name]!r} for {name}; hookspecs.py has {render(SPECS[name])!r}"
    )


def test_docs_document_no_unknown_hooks() -> None:
    unknown = set(_documented()) - set(SPECS)
    assert not unknown, f"docs/hooks.md documents hooks hookspecs.py does not define: {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_hook_has_docstring(name: str) -> None:
    doc = inspect.getdoc(SPECS[name]) or ""
    assert doc.strip(), f"hookspec {name} has no docstring"
    opts = getattr(SPECS[name], f"{hookspecs.PROJECT}_spec")
    for flag, closing in (("firstresult", "Stops at first non-None result."), ("historic", "Historic.")):
        assert (closing in doc) == bool(opts.get(flag)), f"{name}: {flag} hooks (and only they) say {closing!r}"


def _test_sources() -> dict[Path, str]:
    me = Path(__file__).resolve()
    files = {p.resolve() for g in TEST_GLOBS for p in REPO.glob(g)}
    return {p: p.read_text(errors="replace") for p in sorted(files) if p != me and "__pycache__" not in p.parts}


def test_every_hook_is_exercised_by_a_test() -> None:
    sources = _test_sources()
    missing = sorted(name for name in SPECS
                     if not any(re.search(rf"\b{name}\b", text) for text in sources.values()))
    assert not missing, f"hooks no test mentions (outside test_meta.py): {missing}"


def _flyte_entry_points() -> list[md.EntryPoint]:
    return sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def test_installed_entry_points_load() -> None:
    eps = _flyte_entry_points()
    assert eps, "no entry point in group 'flyte' is installed (pip install -e backends/local)"
    failures = []
    for ep in eps:
        try:
            ep.load()
        except Exception as e:
            dist = ep.dist.name if ep.dist else "?"
            failures.append(f"{ep.name} = {ep.value} ({dist}): {type(e).__name__}: {e}")
    assert not failures, "entry points that do not load:\n" + "\n".join(failures)


def _plugin_pyprojects() -> list[Path]:
    return sorted(p for g in PLUGIN_PROJECTS for p in REPO.glob(f"{g}/pyproject.toml"))


def test_plugin_projects_found() -> None:
    found = {p.parent.relative_to(REPO).as_posix() for p in _plugin_pyprojects()}
    assert {"backends/local", "examples/plugin-example"} <= found, found


@pytest.mark.parametrize("pyproject", _plugin_pyprojects(), ids=lambda p: p.parent.relative_to(REPO).as_posix())
def test_plugin_entry_points_only_in_group_flyte(pyproject: Path) -> None:
    project = tomllib.loads(pyproject.read_text()).get("project", {})
    groups = set(project.get("entry-points", {}))
    for key in ("scripts", "gui-scripts"):
        if project.get(key):
            groups.add(key)
    where = pyproject.relative_to(REPO)
    assert groups == {ENTRY_POINT_GROUP}, (
        f"{where} declares entry points in {sorted(groups) or 'no group'}; a flyte plugin declares them in "
        f"[project.entry-points.flyte] only (commands come from the flyte_add_cli_commands hook)"
    )
    assert project["entry-points"][ENTRY_POINT_GROUP], f"{where}: [project.entry-points.flyte] is empty"
