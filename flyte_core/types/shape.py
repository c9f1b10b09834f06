"""Turning decoded JSON into the Python shape a type hint asks for (the command line's structured inputs)."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from flyte_core.types.engine import TypeEngine
from flyte_core.types.interface import type_name
from flyte_core.types.transformer import Converter


def shape(data: Any, hint: Any, engine: TypeEngine | None = None) -> Any:
    """Turn decoded JSON into the Python shape ``hint`` asks for (tuples, non-str dict keys)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return shape(data, args[0], engine)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        for a in args:
            if a is type(None):
                continue
            try:
                return shape(data, a, engine)
            except (TypeError, ValueError):
                continue
        raise ValueError(f"no member of {type_name(hint)} accepts {data!r}")
    if origin is tuple:
        if not isinstance(data, list):
            raise TypeError("expected a JSON list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(shape(x, args[0], engine) for x in data)
        return tuple(shape(x, a, engine) for x, a in zip(data, args, strict=True))
    if origin is list:
        if not isinstance(data, list):
            raise TypeError("expected a JSON list")
        return [shape(x, args[0], engine) for x in data] if args else data
    if origin is dict:
        if not isinstance(data, dict):
            raise TypeError("expected a JSON object")
        if not args:
            return data
        return {shape(json.loads(k) if args[0] is not str else k, args[0], engine): shape(v, args[1], engine)
                for k, v in data.items()}
    if hint is float and isinstance(data, int):
        return float(data)
    if hint in (int, str, bool, float) and not isinstance(data, hint):
        raise TypeError(f"expected {hint.__name__}")
    if engine is not None and hint not in (int, str, bool, float, typing.Any, type(None)):
        # Records, enums, datetimes nested in containers parse themselves like top-level inputs do.
        conv = converter_for(engine, hint)
        if conv is not None and conv.from_cli is not None:
            return conv.from_cli(data if isinstance(data, str) else json.dumps(data))
    return data


def converter_for(engine: TypeEngine | None, hint: Any) -> Converter | None:
    """The engine's converter for ``hint``, or None when there is no engine or no converter."""
    if engine is None:
        return None
    try:
        return engine.converter(hint)
    except (TypeError, ValueError):
        return None
