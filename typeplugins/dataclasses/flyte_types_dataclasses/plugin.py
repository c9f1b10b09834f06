"""The hook implementation the ``dataclasses`` entry point names.

It is ``trylast`` on purpose: many specific types are themselves dataclasses or attrs classes
(``flyte.io.File`` may be one, pydantic dataclasses are), and a plugin made for such a type must win
over this generic one. The core's pickle fallback never competes: it answers only for ``object``,
the last key the engine asks about, and this hook answers for the record class itself.
"""

from __future__ import annotations

import typing
from typing import Any

import attrs

from flyte_core.extend import TypeTransformer, hookimpl


@hookimpl(trylast=True)
def flyte_type_transformer(python_type: Any, hint: Any) -> TypeTransformer | None:
    """Dataclasses and attrs classes, asked about as the hint's own class (not as a base class of
    it, so a subclass is converted with its own fields), possibly generic (``Box[int]``) or
    ``Annotated``."""
    if not isinstance(python_type, type):
        return None
    if python_type is not hint:
        if isinstance(hint, type):  # python_type is a base class of the hint: not ours to answer
            return None
        target = hint
        if typing.get_origin(target) is typing.Annotated:
            target = typing.get_args(target)[0]
        if target is not python_type and typing.get_origin(target) is not python_type:
            return None
    # What dataclasses.is_dataclass checks of a class, without importing dataclasses into every
    # process that loads plugins (most runs convert no record type).
    if hasattr(python_type, "__dataclass_fields__"):
        from flyte_types_dataclasses.record import DATACLASS  # on the first record type: most runs have none

        return DATACLASS
    if attrs.has(python_type):
        from flyte_types_dataclasses.record import ATTRS

        return ATTRS
    return None
