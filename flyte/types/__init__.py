"""``flyte.types``: Flyte 2's type-system names (``TypeEngine``, ``TypeTransformer``, ...).

Re-exports only: they come from the ``flyte-types-transformers`` plugin (which brings Flyte 2's
``flyteidl2`` protobuf literals), imported on first use so ``import flyte`` stays free of them.
"""

from __future__ import annotations

from typing import Any

_PROVIDER = ("flyte_types_transformers", "flyte-types-transformers")

__all__ = [
    "FlytePickle",
    "Renderable",
    "TypeEngine",
    "TypeTransformer",
    "TypeTransformerFailedError",
    "guess_interface",
    "literal_string_repr",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'flyte.types' has no attribute '{name}'")
    import importlib

    module, dist = _PROVIDER
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as e:
        raise ImportError(f"flyte.types.{name} comes from the '{dist}' package; install it "
                          f"(pip install {dist}, or flyte-core[flyte2]).") from e
