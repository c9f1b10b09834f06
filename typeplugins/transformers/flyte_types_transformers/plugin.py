"""The entry point of ``flyte-types-transformers``: answers flyte-core's type hook for every type a
user registered with ``flyte.types.TypeEngine.register`` (and ``Annotated[T, transformer]``)."""

from __future__ import annotations

import sys
import typing
from typing import TYPE_CHECKING, Any

from flyte_core.extend import hookimpl

if TYPE_CHECKING:
    from flyte_core.extend import TypeTransformer


# tryfirst: a user who registers a transformer for a class means it for that class, over the
# catch-all plugins (Pydantic models, dataclasses) that would otherwise take it.
@hookimpl(tryfirst=True)
def flyte_type_transformer(python_type: Any, hint: Any) -> TypeTransformer | None:
    """An adapter over the Flyte 2 transformer registered for ``python_type`` (or named in the
    hint's ``Annotated`` metadata); None when there is none."""
    # Every user transformer subclasses TypeTransformer: until its module is imported (the package
    # imports it on first use), no transformer exists in this process, so answer without importing.
    transformer_mod = sys.modules.get("flyte_types_transformers.transformer")
    if transformer_mod is None:
        return None
    engine_mod = sys.modules.get("flyte_types_transformers.engine")  # None: nothing registered

    found = None
    if typing.get_origin(hint) is typing.Annotated:
        found = next((m for m in typing.get_args(hint)[1:] if isinstance(m, transformer_mod.TypeTransformer)), None)
    if found is None and engine_mod is not None and typing.get_origin(hint) not in (None, typing.Annotated):
        found = engine_mod.TypeEngine.registered(hint)  # a generic registered as such (list[Point])
    if found is None and engine_mod is not None:
        found = engine_mod.TypeEngine.registered(python_type)
    if found is None:
        return None
    from flyte_types_transformers.adapter import adapter_for

    return adapter_for(found)
