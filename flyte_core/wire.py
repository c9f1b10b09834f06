"""The one cattrs converter for everything flyte-core writes down or sends between processes."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when first used: a plain local run never needs it
    import cattrs

#: Version of the wire records (run store rows, action specs, channel messages). Readers refuse others.
SCHEMA_VERSION = 1


@functools.cache
def converter() -> cattrs.Converter:
    """The shared converter. Wire rules:

    - attrs classes become dicts of their fields (``None`` fields kept, so readers see every key);
    - enums become their values; ``Path`` becomes ``str``;
    - literal maps (``{"t": ..., "v": ..., "d": ...}``) are plain JSON and pass through unchanged;
    - top-level records written to storage carry ``"schema": SCHEMA_VERSION`` (see :func:`dump`).
    """
    from pathlib import Path

    import cattrs

    c = cattrs.Converter()
    c.register_unstructure_hook(Path, str)
    c.register_structure_hook(Path, lambda v, _t: Path(v))
    return c


def dump(obj: Any) -> dict[str, Any]:
    """Unstructure an attrs record and stamp it with the schema version."""
    data: dict[str, Any] = converter().unstructure(obj)
    data["schema"] = SCHEMA_VERSION
    return data


def load(data: dict[str, Any], cls: type[Any]) -> Any:
    """Structure a record written by :func:`dump`, refusing other schema versions."""
    version = data.get("schema", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"A {cls.__name__} record has schema version {version}, but this flyte-core reads "
            f"version {SCHEMA_VERSION}; use the flyte-core version that wrote it."
        )
    body = {k: v for k, v in data.items() if k != "schema"}
    return converter().structure(body, cls)
