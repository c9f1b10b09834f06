"""``flyte.io``: File, Dir and DataFrame, as in Flyte 2.

Re-exports only: ``File``/``Dir`` come from the ``flyte-types-files`` plugin and ``DataFrame`` from
``flyte-types-dataframes``, ``HashFunction`` (a user hash method whose result becomes a value's
cache key) from ``flyte-types-files``, imported on first use so ``import flyte`` stays free of them.
"""

from __future__ import annotations

from typing import Any

_PROVIDERS = {
    "File": ("flyte_types_files", "flyte-types-files"),
    "Dir": ("flyte_types_files", "flyte-types-files"),
    "EmptyDir": ("flyte_types_files", "flyte-types-files"),
    "DataFrame": ("flyte_types_dataframes", "flyte-types-dataframes"),
    "PARQUET": ("flyte_types_dataframes", "flyte-types-dataframes"),
    "HashFunction": ("flyte_types_files.hashing", "flyte-types-files"),
}

__all__ = ["PARQUET", "DataFrame", "Dir", "EmptyDir", "File", "HashFunction"]


def __getattr__(name: str) -> Any:
    try:
        module, dist = _PROVIDERS[name]
    except KeyError:
        raise AttributeError(f"module 'flyte.io' has no attribute '{name}'") from None
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as e:
        raise ImportError(f"flyte.io.{name} comes from the '{dist}' package; install it "
                          f"(pip install {dist}).") from e
