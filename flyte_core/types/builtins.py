"""Transformers for the core types: None, bool, int, float, str, bytes, list, dict, tuple, Union.

They are registered like any plugin's (``flyte_type_transformer``), as ``trylast`` so an installed
plugin can override them.
"""

from __future__ import annotations

import base64
import importlib
import pickle
import types
import typing
import warnings
from typing import Any

from flyte_core.hookspecs import hookimpl
from flyte_core.interface import type_name
from flyte_core.types.engine import TypeEngine
from flyte_core.types.transformer import ConversionContext, Converter, TypeTransformer


def _identity(v: Any, _ctx: ConversionContext) -> Any:
    return v


def _mismatch(hint: Any, value: Any) -> TypeError:
    return TypeError(f"expected {type_name(hint)}, got {type(value).__name__} {value!r:.80}")


class _Scalar:
    """A JSON-native scalar (bool, int, str) or None: the payload is the value itself."""

    version = 1

    def __init__(self, py_type: type) -> None:
        self.py_type = py_type
        self.name = py_type.__name__ if py_type is not type(None) else "none"

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        py_type = self.py_type
        exact_bool = py_type is bool

        def accepts(v: Any) -> bool:
            # bool is an int subclass; an int parameter must not silently take True.
            return type(v) is py_type if exact_bool or py_type is int else isinstance(v, py_type)

        def to_literal(v: Any, _ctx: ConversionContext) -> Any:
            if not accepts(v):
                if py_type is int and isinstance(v, int) and not isinstance(v, bool):
                    return int(v)  # int subclasses such as IntEnum members
                raise _mismatch(hint, v)
            return v

        return Converter(self.name, self.version, to_literal, _identity, accepts, {"type": self.name})


class _Float:
    name = "float"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        def accepts(v: Any) -> bool:
            return isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool))

        def to_literal(v: Any, _ctx: ConversionContext) -> Any:
            if not accepts(v):
                raise _mismatch(hint, v)
            f = float(v)
            # JSON has no NaN/inf; keep them as strings the reader turns back into floats.
            return f if f == f and f not in (float("inf"), float("-inf")) else repr(f)

        def to_python(p: Any, _ctx: ConversionContext) -> float:
            return float(p)

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "float"})


class _Bytes:
    name = "bytes"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        def accepts(v: Any) -> bool:
            return isinstance(v, bytes | bytearray)

        def to_literal(v: Any, _ctx: ConversionContext) -> str:
            if not accepts(v):
                raise _mismatch(hint, v)
            return base64.b64encode(bytes(v)).decode("ascii")

        def to_python(p: str, _ctx: ConversionContext) -> bytes:
            return base64.b64decode(p)

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "bytes"})


class _List:
    name = "list"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        args = typing.get_args(hint)
        if not args:
            raise TypeError(f"{type_name(hint)} needs an element type, e.g. list[int]")
        inner = engine.converter(args[0])
        to_lit, to_py = inner.to_literal, inner.to_python

        def accepts(v: Any) -> bool:
            return isinstance(v, list)

        def to_literal(v: Any, ctx: ConversionContext) -> list[Any]:
            if not isinstance(v, list):
                raise _mismatch(hint, v)
            return [to_lit(x, ctx) for x in v]

        def to_python(p: list[Any], ctx: ConversionContext) -> list[Any]:
            return [to_py(x, ctx) for x in p]

        return Converter(
            self.name, self.version, to_literal, to_python, accepts, {"type": "list", "of": inner.literal_type}
        )


class _Dict:
    """``dict[str, V]`` is a JSON object; other key types travel as a list of [key, value] pairs."""

    name = "dict"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        args = typing.get_args(hint)
        if len(args) != 2:
            raise TypeError(f"{type_name(hint)} needs key and value types, e.g. dict[str, int]")
        key, val = engine.converter(args[0]), engine.converter(args[1])
        vl, vp = val.to_literal, val.to_python

        def accepts(v: Any) -> bool:
            return isinstance(v, dict)

        if args[0] is str:

            def to_literal(v: Any, ctx: ConversionContext) -> Any:
                if not isinstance(v, dict):
                    raise _mismatch(hint, v)
                for k in v:
                    if type(k) is not str:
                        raise TypeError(f"key {k!r} of a {type_name(hint)} is not a str")
                return {k: vl(x, ctx) for k, x in v.items()}

            def to_python(p: Any, ctx: ConversionContext) -> Any:
                return {k: vp(x, ctx) for k, x in p.items()}
        else:
            kl, kp = key.to_literal, key.to_python

            def to_literal(v: Any, ctx: ConversionContext) -> Any:
                if not isinstance(v, dict):
                    raise _mismatch(hint, v)
                return [[kl(k, ctx), vl(x, ctx)] for k, x in v.items()]

            def to_python(p: Any, ctx: ConversionContext) -> Any:
                return {kp(k, ctx): vp(x, ctx) for k, x in p}

        lt = {"type": "dict", "key": key.literal_type, "value": val.literal_type}
        return Converter(self.name, self.version, to_literal, to_python, accepts, lt)


class _Tuple:
    """``tuple[A, B]`` (fixed) and ``tuple[A, ...]`` (variadic), both as JSON arrays."""

    name = "tuple"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        args = typing.get_args(hint)
        if not args:  # bare tuple: any values
            args = (typing.Any, Ellipsis)
        if len(args) == 2 and args[1] is Ellipsis:
            as_list = engine.converter(list[args[0]])  # type: ignore[valid-type]

            def to_literal_var(v: Any, ctx: ConversionContext) -> Any:
                if not isinstance(v, tuple):
                    raise _mismatch(hint, v)
                return as_list.to_literal(list(v), ctx)

            def to_python_var(p: Any, ctx: ConversionContext) -> Any:
                return tuple(as_list.to_python(p, ctx))

            return Converter(
                self.name, self.version, to_literal_var, to_python_var,
                lambda v: isinstance(v, tuple), {"type": "tuple", "of": as_list.literal_type},
            )
        members = [engine.converter(a) for a in args]

        def accepts(v: Any) -> bool:
            return isinstance(v, tuple) and len(v) == len(members)

        def to_literal(v: Any, ctx: ConversionContext) -> Any:
            if not accepts(v):
                raise _mismatch(hint, v)
            return [m.to_literal(x, ctx) for m, x in zip(members, v)]

        def to_python(p: Any, ctx: ConversionContext) -> Any:
            return tuple(m.to_python(x, ctx) for m, x in zip(members, p))

        lt = {"type": "tuple", "items": [m.literal_type for m in members]}
        return Converter(self.name, self.version, to_literal, to_python, accepts, lt)


class _Union:
    """``Union[...]`` / ``X | Y`` / ``Optional[X]``: the payload records which member was used."""

    name = "union"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        members = [engine.converter(a) for a in typing.get_args(hint)]

        def accepts(v: Any) -> bool:
            return any(m.accepts(v) for m in members)

        def to_literal(v: Any, ctx: ConversionContext) -> Any:
            for i, m in enumerate(members):
                if m.accepts(v):
                    return [i, m.to_literal(v, ctx)]
            raise _mismatch(hint, v)

        def to_python(p: Any, ctx: ConversionContext) -> Any:
            i, d = p
            return members[i].to_python(d, ctx)

        lt = {"type": "union", "members": [m.literal_type for m in members]}
        return Converter(self.name, self.version, to_literal, to_python, accepts, lt)


class PickleFallbackWarning(UserWarning):
    """A task moves a value by pickle because no type transformer handles its type."""


class _Pickle:
    """Last resort for classes no transformer handles: pickled, base64 in the payload.

    Compiling it warns once per type, naming the type and how to add a transformer.
    """

    name = "pickle"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        if hint is not object:
            warnings.warn(
                f"{type_name(hint)} has no type transformer, so its values travel as pickle (only "
                "readable by the same Python and library versions); register a transformer with the "
                "'flyte_type_transformer' hook to avoid this.",
                PickleFallbackWarning,
                stacklevel=2,
            )
        cls = hint if isinstance(hint, type) else object

        def accepts(v: Any) -> bool:
            return isinstance(v, cls)

        def to_literal(v: Any, _ctx: ConversionContext) -> str:
            if not accepts(v):
                raise _mismatch(hint, v)
            return base64.b64encode(pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")

        def to_python(p: str, _ctx: ConversionContext) -> Any:
            return pickle.loads(base64.b64decode(p))

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "pickle"})


def _is_json(v: Any) -> bool:
    t = type(v)
    if t in (str, int, float, bool) or v is None:
        return t is not float or (v == v and v not in (float("inf"), float("-inf")))
    if t is list:
        return all(_is_json(x) for x in v)
    if t is dict:
        return all(type(k) is str and _is_json(x) for k, x in v.items())
    return False


class _Any:
    """``typing.Any`` and bare ``list``/``dict``: JSON values travel as JSON; any other value is
    converted by the transformer of its runtime type, whose import path is recorded with it."""

    name = "any"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        container = hint if hint in (list, dict) else object

        def accepts(v: Any) -> bool:
            return isinstance(v, container)

        def to_literal(v: Any, ctx: ConversionContext) -> Any:
            if not accepts(v):
                raise _mismatch(hint, v)
            if _is_json(v):
                return {"json": v}
            t = type(v)
            conv = engine.converter(t)
            return {"type": f"{t.__module__}:{t.__qualname__}", "lit": conv.to_literal(v, ctx)}

        def to_python(p: Any, ctx: ConversionContext) -> Any:
            if "json" in p:
                return p["json"]
            module, _, qualname = p["type"].partition(":")
            obj: Any = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
            return engine.converter(obj).to_python(p["lit"], ctx)

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "any"})


_SCALARS: dict[Any, TypeTransformer] = {
    bool: _Scalar(bool),
    int: _Scalar(int),
    str: _Scalar(str),
    type(None): _Scalar(type(None)),
    None: _Scalar(type(None)),
    float: _Float(),
    bytes: _Bytes(),
}
_GENERICS: dict[Any, TypeTransformer] = {
    list: _List(),
    dict: _Dict(),
    tuple: _Tuple(),
    typing.Union: _Union(),
    types.UnionType: _Union(),
}
_ANY = _Any()
_PICKLE = _Pickle()


@hookimpl(trylast=True)
def flyte_type_transformer(python_type: Any, hint: Any) -> TypeTransformer | None:
    """The core's transformers, consulted after every plugin's."""
    found = _SCALARS.get(python_type)
    if found is not None:
        return found
    if python_type in (list, dict) and hint in (list, dict):
        return _ANY  # bare list / dict, as in the seed's `-> dict`
    found = _GENERICS.get(python_type)
    if found is not None:
        return found
    if python_type is typing.Any:
        return _ANY
    if python_type is object:  # reached through the MRO: nothing more specific handles the class
        return _PICKLE
    return None
