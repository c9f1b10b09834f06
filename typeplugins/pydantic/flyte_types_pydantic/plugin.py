"""The hook flyte-core calls for every type a session meets; it answers only for pydantic models.

This module is imported by every session, so it imports neither pydantic nor the transformer: a
model class can exist only if ``pydantic.main`` was already imported, so ``sys.modules`` tells
cheaply whether the question can concern pydantic at all.
"""

from __future__ import annotations

import sys
import typing
from typing import TYPE_CHECKING, Any

from flyte_core.extend import hookimpl

if TYPE_CHECKING:
    from flyte_core.extend import TypeTransformer


# trylast: the core's built-ins return None for a model class (its pickle fallback answers only for
# `object`, asked after the class itself), so this transformer still wins over pickle, while a
# plugin that owns one specific model class (e.g. a File type written as a BaseModel) wins over it.
@hookimpl(trylast=True)
def flyte_type_transformer(python_type: Any, hint: Any) -> TypeTransformer | None:
    """The pydantic transformer when ``python_type`` is a ``BaseModel`` subclass and the hint is that
    model itself (possibly ``Annotated``), or a parametrised generic model of it; else None."""
    main = sys.modules.get("pydantic.main")
    if main is None or not isinstance(python_type, type):
        return None
    base = main.BaseModel
    if python_type is base or not issubclass(python_type, base):
        return None
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if hint is not python_type and not _parametrises(hint, python_type):
        return None
    from flyte_types_pydantic.transformer import PYDANTIC_MODEL

    return PYDANTIC_MODEL


def _parametrises(hint: Any, model: type) -> bool:
    """Whether ``hint`` is ``model[...]``: pydantic makes a real subclass for each parametrisation."""
    meta = getattr(hint, "__pydantic_generic_metadata__", None) or {}
    return meta.get("origin") is model
