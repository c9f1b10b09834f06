"""``guess_interface``: a task interface with Python types guessed from a Flyte 2 ``TypedInterface``
(for code that inspects tasks defined elsewhere)."""

from __future__ import annotations

import datetime
import typing
from collections.abc import Iterable
from typing import Any

from flyte_core.extend import Input, NativeInterface

_SIMPLE = {"NONE": type(None), "INTEGER": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool,
           "DATETIME": datetime.datetime, "DURATION": datetime.timedelta, "BINARY": bytes, "STRUCT": dict}


def guess_type(literal_type: Any, transformers: Iterable[Any]) -> Any:
    """The Python type of a Flyte 2 ``LiteralType``: registered transformers first (by their
    ``guess_python_type``), then simple types, collections, string maps and unions.

    :raises ValueError: when none fits.
    """
    for tr in transformers:
        try:
            return tr.guess_python_type(literal_type)
        except (ValueError, NotImplementedError):
            continue
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        from flyteidl2.core import types_pb2

        return _SIMPLE[types_pb2.SimpleType.Name(literal_type.simple)]
    if kind == "collection_type":
        return list[guess_type(literal_type.collection_type, transformers)]  # type: ignore[misc]
    if kind == "map_value_type":
        return dict[str, guess_type(literal_type.map_value_type, transformers)]  # type: ignore[misc]
    if kind == "union_type":
        members = tuple(guess_type(v, transformers) for v in literal_type.union_type.variants)
        return typing.Union[members]  # noqa: UP007 - built from a tuple
    raise ValueError(f"No transformer could reverse Flyte literal type {literal_type}")


def guess_interface(interface: Any, default_inputs: Iterable[Any] | None = None) -> NativeInterface:
    """A :class:`NativeInterface` for a Flyte 2 ``TypedInterface`` (types guessed by
    ``TypeEngine.guess_python_types``); inputs named in ``default_inputs`` (``NamedParameter``s with
    a default) get that default, as a Python value when it can be converted, else the literal.
    Several outputs become one ``NamedTuple`` output."""
    from flyte_types_transformers.adapter import run_sync
    from flyte_types_transformers.engine import TypeEngine

    if interface is None:
        return NativeInterface((), None, {})
    defaults: dict[str, Any] = {}
    for param in default_inputs or ():
        if param.parameter.HasField("default"):
            defaults[param.name] = param.parameter.default
    inputs = []
    for name, t in TypeEngine.guess_python_types(interface.inputs.variables).items():
        default: Any = Input.NO_DEFAULT
        if name in defaults:
            try:
                default = run_sync(TypeEngine.to_python_value(defaults[name], t))
            except (ValueError, TypeError):
                default = defaults[name]
        inputs.append(Input(name, t, default))
    outputs = TypeEngine.guess_python_types(interface.outputs.variables)
    output: Any = None
    if len(outputs) == 1:
        output = next(iter(outputs.values()))
    elif outputs:
        output = _named_outputs(outputs)
    return NativeInterface(tuple(inputs), output, {i.name: i for i in inputs})


def _named_outputs(outputs: dict[str, Any]) -> Any:
    """A NamedTuple type with one field per output, in order."""
    return typing.NamedTuple("Outputs", list(outputs.items()))
