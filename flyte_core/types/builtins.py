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
import types
import typing
from typing import Any

from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.types.callables import CallableT
from flyte_core.types.choices import EnumT, LiteralT
from flyte_core.types.containers import DictT, ListT, NamedTupleT, TupleT, UnionT
from flyte_core.types.fallback import AnyT, Pickle, PickleFallbackWarning
from flyte_core.types.scalars import Bytes, Float, Scalar
from flyte_core.types.temporal import DateT, DateTimeT, TimeDeltaT
from flyte_core.types.transformer import TypeTransformer
from flyte_core.types.typeddict import TypedDictT, is_typeddict

__all__ = ["PickleFallbackWarning", "flyte_type_transformer"]

_BY_KEY: dict[Any, TypeTransformer] = {
    bool: Scalar(bool),
    int: Scalar(int),
    str: Scalar(str),
    type(None): Scalar(type(None)),
    None: Scalar(type(None)),
    float: Float(),
    bytes: Bytes(),
    list: ListT(),
    dict: DictT(),
    tuple: TupleT(),
    typing.Union: UnionT(),
    types.UnionType: UnionT(),
    typing.Literal: LiteralT(),
    dt.datetime: DateTimeT(),
    dt.date: DateT(),
    dt.timedelta: TimeDeltaT(),
    collections.abc.Callable: CallableT(),
}
_ANY = AnyT()
_PICKLE = Pickle()
_ENUM = EnumT()
_NAMEDTUPLE = NamedTupleT()
_TYPEDDICT = TypedDictT()


@hookimpl(trylast=True)
def flyte_type_transformer(python_type: Any, hint: Any) -> TypeTransformer | None:
    """The core's transformers, consulted after every plugin's."""
    if python_type in (list, dict) and hint in (list, dict):
        return _ANY  # bare list / dict, as in the seed's `-> dict`
    if isinstance(python_type, type):
        if issubclass(python_type, enum.Enum) and python_type is not enum.Enum:
            return _ENUM
        if issubclass(python_type, tuple) and hasattr(python_type, "_fields") and python_type is hint:
            return _NAMEDTUPLE
        if python_type is hint and is_typeddict(python_type):
            return _TYPEDDICT
    found = _BY_KEY.get(python_type)
    if found is not None:
        return found
    if python_type is typing.Any:
        return _ANY
    if python_type is object:  # reached through the MRO: nothing more specific handles the class
        return _PICKLE
    return None
