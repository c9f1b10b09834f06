"""The hook implementation flyte-core finds through the entry point ``dataframes``.

The hook is asked about every class a session meets, so it answers from ``sys.modules``: a frame
library that was never imported cannot own the class being asked about, and nothing is imported
here that ``import flyte`` would not already have.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from flyte_core.extend import hookimpl

if TYPE_CHECKING:
    from flyte_core.extend import TypeTransformer

#: (module, class name) of every frame type handled, by exact class (subclasses come through the MRO).
_FRAME_CLASSES = (("pandas", "DataFrame"), ("polars", "DataFrame"), ("polars", "LazyFrame"), ("pyarrow", "Table"))


@hookimpl
def flyte_type_transformer(python_type: Any, hint: Any) -> TypeTransformer | None:
    """Frames of pandas, polars and pyarrow, and ``flyte.io.DataFrame``; None for anything else."""
    if not isinstance(python_type, type):
        return None
    # flyte.io.DataFrame exists only once its module was imported (it imports fsspec: not at plugin load).
    if python_type is getattr(sys.modules.get("flyte_types_dataframes.dataframe"), "DataFrame", None):
        from flyte_types_dataframes.transformer import DATAFRAME

        return DATAFRAME
    for module, name in _FRAME_CLASSES:
        lib = sys.modules.get(module)
        if lib is not None and getattr(lib, name, None) is python_type:
            from flyte_types_dataframes.transformer import FRAMES

            return FRAMES
    return None
