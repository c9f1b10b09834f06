"""docs/compat.md cannot drift: every name it marks as working imports, and every public name of
Flyte 2 (tests/data/flyte2_surface.json) has a row with a known status."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "compat.md"
SURFACE = json.loads((Path(__file__).parent / "data" / "flyte2_surface.json").read_text())
MODULES = [m for m in SURFACE if m == "flyte" or m.startswith("flyte.")]
STATUSES = {"works", "accepted", "not applicable", "planned"}
_HEADING = re.compile(r"^## `(flyte[\w.]*)`\s*$")
_ROW = re.compile(r"^\| `([^`]+)` \| ([a-z ]+) \|")


def table() -> dict[tuple[str, str], str]:
    """(module, name) -> status, from the per-module tables of docs/compat.md."""
    rows: dict[tuple[str, str], str] = {}
    module = None
    for line in DOC.read_text().splitlines():
        if (h := _HEADING.match(line)) is not None:
            module = h.group(1)
        elif line.startswith("## "):
            module = None
        elif module is not None and (r := _ROW.match(line)) is not None:
            key = (module, r.group(1))
            assert key not in rows, f"docs/compat.md lists {module}.{r.group(1)} twice"
            rows[key] = r.group(2).strip()
    return rows


ROWS = table()


def test_every_flyte2_name_has_a_row_with_a_known_status() -> None:
    missing = [f"{m}.{n}" for m in MODULES for n in SURFACE[m] if (m, n) not in ROWS]
    assert missing == [], f"docs/compat.md has no row for: {', '.join(missing)}"
    unknown = {f"{m}.{n}": s for (m, n), s in ROWS.items() if s not in STATUSES}
    assert unknown == {}, f"statuses must be one of {sorted(STATUSES)}"
    extra = [f"{m}.{n}" for (m, n) in ROWS if n not in SURFACE.get(m, ())]
    assert extra == [], f"docs/compat.md lists names Flyte 2 does not export: {', '.join(extra)}"


@pytest.mark.parametrize("module, name", sorted(k for k, s in ROWS.items() if s in ("works", "accepted")))
def test_every_name_marked_working_imports(module: str, name: str) -> None:
    mod = importlib.import_module(module)
    assert hasattr(mod, name), f"docs/compat.md marks {module}.{name} as working, but it does not exist"
    assert name in getattr(mod, "__all__", [name]) or module == "flyte.errors", \
        f"{module}.{name} works but is not in {module}.__all__"
