"""The entry point of ``flyte-types-files``: answers the type hook for ``File`` and ``Dir``."""

from __future__ import annotations

import sys
from typing import Any

from flyte_core.extend import hookimpl


@hookimpl
def flyte_type_transformer(python_type: Any, hint: Any) -> Any:
    """The transformer for :class:`~flyte_types_files.File` or :class:`~flyte_types_files.Dir`, else None."""
    # Asked for every class a session meets: if the module defining File (or Dir) was never
    # imported, no File (or Dir) can exist, so answer without importing anything.
    if not isinstance(python_type, type):
        return None
    if python_type is getattr(sys.modules.get("flyte_types_files.file"), "File", None):
        from flyte_types_files.transformer import FILE

        return FILE
    if python_type is getattr(sys.modules.get("flyte_types_files.directory"), "Dir", None):
        from flyte_types_files.transformer import DIR

        return DIR
    return None
