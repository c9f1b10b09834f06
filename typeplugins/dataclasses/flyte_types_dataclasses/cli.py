"""Decoded command-line JSON shaped to a field's type hint, so ``--point '{"at": "2026-01-02"}'``
gives a ``datetime`` field a datetime and a nested object a nested instance."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from flyte_core.extend import TypeEngine, type_name

_UNIONS = (typing.Union, types.UnionType)
_SEQUENCES = (list, set, frozenset)


def shape_json(data: Any, hint: Any, engine: TypeEngine) -> Any:
    """``data`` (decoded JSON) as a value of ``hint``.

    Containers, unions and literals are shaped here; any other type is given to its converter's
    ``from_cli`` (text as it is, anything else as JSON text), which is how nested records, enums and
    datetimes are parsed. Raises ``TypeError``/``ValueError`` naming the expected type.
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return data
    if origin is typing.Annotated:
        return shape_json(data, args[0], engine)
    if origin in _UNIONS:
        return _shape_union(data, hint, args, engine)
    if origin is typing.Literal:
        for allowed in args:
            if data == allowed and type(data) is type(allowed):
                return data
        raise ValueError(f"{data!r} is not one of {', '.join(map(repr, args))}")
    if origin in _SEQUENCES or origin is tuple or hint in (*_SEQUENCES, tuple):
        return _shape_sequence(data, hint, origin or hint, args, engine)
    if origin is dict or hint is dict:
        return _shape_dict(data, hint, args, engine)
    if hint is type(None) or hint is None:
        if data is not None:
            raise TypeError(f"expected null, got {data!r:.40}")
        return None
    if hint is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if hint in (int, float, str, bool):
        if type(data) is not hint:
            raise TypeError(f"expected {hint.__name__}, got {type(data).__name__} {data!r:.40}")
        return data
    conv = engine.converter(hint)
    if conv.from_cli is None:
        return data
    return conv.from_cli(data if isinstance(data, str) else json.dumps(data))


def _shape_union(data: Any, hint: Any, args: tuple[Any, ...], engine: TypeEngine) -> Any:
    if data is None and type(None) in args:
        return None
    for member in args:
        if member is type(None):
            continue
        try:
            return shape_json(data, member, engine)
        except (TypeError, ValueError):
            continue
    raise ValueError(f"no member of {type_name(hint)} accepts {data!r:.60}")


def _shape_sequence(data: Any, hint: Any, origin: Any, args: tuple[Any, ...], engine: TypeEngine) -> Any:
    if not isinstance(data, list):
        raise TypeError(f"expected a JSON list for {type_name(hint)}, got {type(data).__name__}")
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(args) != len(data):
            raise ValueError(f"expected {len(args)} items for {type_name(hint)}, got {len(data)}")
        return tuple(shape_json(x, a, engine) for x, a in zip(data, args))
    item = args[0] if args else Any
    return origin(shape_json(x, item, engine) for x in data)


def _shape_dict(data: Any, hint: Any, args: tuple[Any, ...], engine: TypeEngine) -> Any:
    if not isinstance(data, dict):
        raise TypeError(f"expected a JSON object for {type_name(hint)}, got {type(data).__name__}")
    if not args:
        return data
    key_hint, value_hint = args
    out = {}
    for k, v in data.items():
        # JSON keys are text; a non-str key type reads them as JSON first (``{"1": ...}`` -> 1).
        key: Any = k
        if key_hint is not str:
            try:
                key = json.loads(k)
            except ValueError:
                key = k
        out[shape_json(key, key_hint, engine)] = shape_json(v, value_hint, engine)
    return out
