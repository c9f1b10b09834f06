"""Built-in plugins are written as a third party would: their sources and tests import the core only
through ``flyte_core.extend`` (the plugin API), ``flyte_core.testing`` (the test kit) and the public
``flyte`` package. Read with ``ast``, so strings and comments naming a module do not count."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Every plugin distribution's folder, and the example plugin of docs/writing-plugins.md.
PLUGIN_FOLDERS = ("backends", "plugins", "typeplugins", "examples", "docs/examples")
#: The core's modules a plugin may import.
ALLOWED = ("flyte_core.extend", "flyte_core.testing")
#: Plugin tests that deliberately check the core's internals, as (file, module) pairs, each with a
#: comment saying why (none today: such checks live in the core's own tests/).
INTERNAL_TESTS: frozenset[tuple[str, str]] = frozenset()


def _allowed(module: str) -> bool:
    return module == "flyte" or module.startswith("flyte.") or any(
        module == a or module.startswith(a + ".") for a in ALLOWED)


def core_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of each import of a ``flyte_core`` module in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "flyte_core":
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "flyte_core":  # ``from flyte_core import x``: x is a module of the core
                for alias in node.names:
                    yield node.lineno, f"flyte_core.{alias.name}"
            elif node.module.split(".")[0] == "flyte_core":
                yield node.lineno, node.module


def plugin_files() -> list[Path]:
    files = []
    for folder in PLUGIN_FOLDERS:
        files += [p for p in (ROOT / folder).rglob("*.py")
                  if not {".venv", "build", ".nox", "__pycache__"} & set(p.parts)]
    return sorted(files)


def test_plugins_import_the_core_only_through_its_plugin_api() -> None:
    found = []
    for path in plugin_files():
        rel = path.relative_to(ROOT).as_posix()
        for line, module in core_imports(path):
            if not _allowed(module) and (rel, module) not in INTERNAL_TESTS:
                found.append(f"{rel}:{line} imports {module}")
    assert not found, (
        "plugins must import flyte-core only through flyte_core.extend, flyte_core.testing and flyte "
        "(add what a plugin needs to flyte_core.extend, see docs/writing-plugins.md):\n  " + "\n  ".join(found))


def test_the_internal_test_list_is_current() -> None:
    """Each listed exception still exists (a stale entry would let a new internal import in)."""
    used = {(path.relative_to(ROOT).as_posix(), module) for path in plugin_files() for _, module in core_imports(path)}
    assert used >= INTERNAL_TESTS, f"stale entries in INTERNAL_TESTS: {sorted(INTERNAL_TESTS - used)}"


def test_the_check_reads_code_not_text(tmp_path: Path) -> None:
    """Imports in functions and ``from flyte_core import module`` count; strings and comments do not."""
    sample = tmp_path / "sample.py"
    sample.write_text('"""import flyte_core.run.session"""\n# from flyte_core.run.handle import Run\n'
                      "from flyte_core.extend import hookimpl\nimport flyte.errors\n"
                      "def f():\n    from flyte_core import wire\n    import flyte_core.api.runs as api\n")
    assert list(core_imports(sample)) == [(3, "flyte_core.extend"), (6, "flyte_core.wire"), (7, "flyte_core.api.runs")]
    assert [m for _, m in core_imports(sample) if not _allowed(m)] == ["flyte_core.wire", "flyte_core.api.runs"]


def test_every_plugin_package_is_type_checked_strictly() -> None:
    """pyproject's strict mypy overrides name every plugin distribution's package (nox -s typecheck)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    strict = {m.removesuffix(".*") for o in config["tool"]["mypy"]["overrides"] if o.get("strict")
              for m in o["module"]}
    packages = {init.parent.name for folder in ("backends", "plugins", "typeplugins", "examples")
                for init in (ROOT / folder).glob("*/*/__init__.py") if init.parent.name not in ("tests", "bench")}
    assert packages, "no plugin packages found"
    assert not packages - strict, f"not type-checked strictly (add to pyproject's mypy overrides): {packages - strict}"


def test_the_plugin_guide_teaches_only_the_plugin_api(tmp_path: Path) -> None:
    """Every Python example in docs/writing-plugins.md parses and imports the core only through the API."""
    import re

    text = (ROOT / "docs" / "writing-plugins.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) >= 5, "the guide has lost its examples"
    found = []
    for i, block in enumerate(blocks):
        path = tmp_path / f"block{i}.py"
        path.write_text(block)
        found += [f"example {i + 1}: {module}" for _, module in core_imports(path) if not _allowed(module)]
    assert not found, "docs/writing-plugins.md imports flyte-core internals:\n  " + "\n  ".join(found)
