"""Writes flyte2_surface.json: the public names of Flyte 2's modules, for tests/test_compat_surface.py.

Run it with a Python that has Flyte 2 installed (``/path/to/flyte2/bin/python tests/data/make_flyte2_surface.py``),
from any folder but the repository root (where ``flyte`` would be ours). A module's names are its ``__all__``;
``flyte.errors`` has none, so its names are those it holds that do not start with "_", less the names it imports
from ``typing`` and modules.
"""

from __future__ import annotations

import importlib
import json
import sys
import typing
from pathlib import Path
from types import ModuleType

MODULES = ["flyte", "flyte.io", "flyte.errors", "flyte.report", "flyte.extras", "flyte.durable", "flyte.types",
           "flyte.storage", "flyte.syncify", "flyte.app"]


def names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    public = getattr(module, "__all__", None)
    if public:
        return sorted(public)
    return sorted(n for n, v in vars(module).items()
                  if not n.startswith("_") and getattr(typing, n, None) is not v and not isinstance(v, ModuleType))


def main() -> None:
    import flyte

    out = {"flyte_version": flyte.__version__, **{m: names(m) for m in MODULES}}
    target = Path(__file__).with_name("flyte2_surface.json")
    target.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {target}: " + ", ".join(f"{m} {len(out[m])}" for m in MODULES), file=sys.stderr)


if __name__ == "__main__":
    main()
