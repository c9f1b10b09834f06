"""The core's transformers, registered like any plugin's (``flyte_type_transformer``) but
``trylast``, so an installed plugin overrides them.

Core types: None, bool, int, float, str, bytes, list, dict, tuple, NamedTuple, TypedDict,
Union/Optional, Literal, Enum, datetime, date, timedelta, Callable, typing.Any; any other class falls
back to pickle.
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import enum
import importlib
import types
import typing
from typing import Any

from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.types.common import is_typeddict
from flyte_core.types.transformer import TypeTransformer

__all__ = ["flyte_type_transformer"]

# Keys of the transformers found by a test rather than by the type (objects no type equals).
_ANY, _PICKLE, _ENUM, _NAMEDTUPLE, _TYPEDDICT = (object() for _ in range(5))

#: Each transformer's module (in flyte_core.types), class and arguments. Every process that loads
#: plugins loads this one (each task container's worker too), and most tasks take a few scalars:
#: a transformer's module is imported when a type first needs it, not with the plugin.
_WHERE: dict[Any, tuple[str, str, tuple[Any, ...]]] = {
    bool: ("scalars", "Scalar", (bool,)),
    int: ("scalars", "Scalar", (int,)),
    str: ("scalars", "Scalar", (str,)),
    type(None): ("scalars", "Scalar", (type(None),)),
    None: ("scalars", "Scalar", (type(None),)),
    float: ("scalars", "Float", ()),
    bytes: ("scalars", "Bytes", ()),
    list: ("containers", "ListT", ()),
    dict: ("containers", "DictT", ()),
    tuple: ("containers", "TupleT", ()),
    typing.Union: ("containers", "UnionT", ()),
    types.UnionType: ("containers", "UnionT", ()),
    typing.Literal: ("choices", "LiteralT", ()),
    dt.datetime: ("temporal", "DateTimeT", ()),
    dt.date: ("temporal", "DateT", ()),
    dt.timedelta: ("temporal", "TimeDeltaT", ()),
    collections.abc.Callable: ("callables", "CallableT", ()),
    _ANY: ("fallback", "AnyT", ()),
    _PICKLE: ("fallback", "Pickle", ()),
    _ENUM: ("choices", "EnumT", ()),
    _NAMEDTUPLE: ("containers", "NamedTupleT", ()),
    _TYPEDDICT: ("typeddict", "TypedDictT", ()),
}
_made: dict[Any, TypeTransformer] = {}


def _get(key: Any) -> TypeTransformer | None:
    """The transformer registered under ``key`` (made once; None for any other key)."""
    found = _made.get(key)
    if found is None:
        where = _WHERE.get(key)
        if where is None:
            return None
        module, name, args = where
        # Two threads may make one each at once: transformers hold no state, either will do.
        found = _made[key] = getattr(importlib.import_module(f"flyte_core.types.{module}"), name)(*args)
    return found


@hookimpl(trylast=True)
def flyte_type_transformer(python_type: Any, hint: Any) -> TypeTransformer | None:
    """The core's transformers, consulted after every plugin's."""
    if python_type in (list, dict) and hint in (list, dict):
        return _get(_ANY)  # bare list / dict, as in the seed's `-> dict`
    if isinstance(python_type, type):
        if issubclass(python_type, enum.Enum) and python_type is not enum.Enum:
            return _get(_ENUM)
        if issubclass(python_type, tuple) and hasattr(python_type, "_fields") and python_type is hint:
            return _get(_NAMEDTUPLE)
        if python_type is hint and is_typeddict(python_type):
            return _get(_TYPEDDICT)
    found = _get(python_type)
    if found is not None:
        return found
    if python_type is typing.Any:
        return _get(_ANY)
    if python_type is object:  # reached through the MRO: nothing more specific handles the class
        return _get(_PICKLE)
    return None
