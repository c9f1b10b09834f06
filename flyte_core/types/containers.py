"""Containers: list, dict, tuple (fixed and variadic) and Union, each built from its members'
converters."""

from __future__ import annotations

import typing
from typing import Any

from flyte_core.types.common import mismatch
from flyte_core.types.engine import TypeEngine
from flyte_core.types.interface import type_name
from flyte_core.types.transformer import ConversionContext, Converter


class ListT:
    """``list[T]``."""

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
                raise mismatch(hint, v)
            return [to_lit(x, ctx) for x in v]

        def to_python(p: list[Any], ctx: ConversionContext) -> list[Any]:
            return [to_py(x, ctx) for x in p]

        return Converter(
            self.name, self.version, to_literal, to_python, accepts, {"type": "list", "of": inner.literal_type},
            py_type=list,
        )


class DictT:
    """``dict[K, V]``. ``dict[str, V]`` is a JSON object; other key types travel as a list of [key, value] pairs."""

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
                    raise mismatch(hint, v)
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
                    raise mismatch(hint, v)
                return [[kl(k, ctx), vl(x, ctx)] for k, x in v.items()]

            def to_python(p: Any, ctx: ConversionContext) -> Any:
                return {kp(k, ctx): vp(x, ctx) for k, x in p}

        lt = {"type": "dict", "key": key.literal_type, "value": val.literal_type}
        return Converter(self.name, self.version, to_literal, to_python, accepts, lt, py_type=dict)


class TupleT:
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
                    raise mismatch(hint, v)
                return as_list.to_literal(list(v), ctx)

            def to_python_var(p: Any, ctx: ConversionContext) -> Any:
                return tuple(as_list.to_python(p, ctx))

            return Converter(
                self.name, self.version, to_literal_var, to_python_var,
                lambda v: isinstance(v, tuple), {"type": "tuple", "of": as_list.literal_type}, py_type=tuple,
            )
        members = [engine.converter(a) for a in args]

        def accepts(v: Any) -> bool:
            return isinstance(v, tuple) and len(v) == len(members)

        def to_literal(v: Any, ctx: ConversionContext) -> Any:
            if not accepts(v):
                raise mismatch(hint, v)
            return [m.to_literal(x, ctx) for m, x in zip(members, v)]

        def to_python(p: Any, ctx: ConversionContext) -> Any:
            return tuple(m.to_python(x, ctx) for m, x in zip(members, p))

        lt = {"type": "tuple", "items": [m.literal_type for m in members]}
        return Converter(self.name, self.version, to_literal, to_python, accepts, lt, py_type=tuple)


class UnionT:
    """``Union[...]`` / ``X | Y`` / ``Optional[X]``: the payload records which member was used."""

    name = "union"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        members = [engine.converter(a) for a in typing.get_args(hint)]

        def accepts(v: Any) -> bool:
            return any(m.accepts(v) for m in members)

        def to_literal(v: Any, ctx: ConversionContext) -> Any:
            fits = [i for i, m in enumerate(members) if m.accepts(v)]
            if len(fits) > 1:  # prefer the member whose class is exactly the value's
                exact = [i for i in fits if members[i].py_type is type(v)]
                fits = exact or fits
            if len(fits) > 1:  # still several: keep those that can really convert it
                fits = [i for i in fits if _converts(members[i], v, ctx)]
                if len({members[i].transformer for i in fits}) > 1:
                    names = " and ".join(type_name(typing.get_args(hint)[i]) for i in fits)
                    raise TypeError(
                        f"a {type(v).__name__} value fits several members of {type_name(hint)} ({names}); "
                        "make the members distinct or pass a value of exactly one of them"
                    )
            if not fits:
                raise mismatch(hint, v)
            i = fits[0]
            return [i, members[i].to_literal(v, ctx)]

        def to_python(p: Any, ctx: ConversionContext) -> Any:
            i, d = p
            return members[i].to_python(d, ctx)

        lt = {"type": "union", "members": [m.literal_type for m in members]}
        return Converter(self.name, self.version, to_literal, to_python, accepts, lt)


def _converts(conv: Converter, v: Any, ctx: ConversionContext) -> bool:
    try:
        conv.to_literal(v, ctx)
    except (TypeError, ValueError):
        return False
    return True


class NamedTupleT:
    """``typing.NamedTuple`` classes: a JSON object of their fields, each by its own hint. A plain tuple or
    list with one item per field is taken too, in field order (Flyte 2 takes them: its callers get a
    NamedTuple return as a plain tuple)."""

    name = "namedtuple"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        hints = typing.get_type_hints(hint)
        fields = [(f, engine.converter(hints.get(f, Any))) for f in hint._fields]

        def accepts(v: Any) -> bool:
            return isinstance(v, hint) or (isinstance(v, tuple | list) and len(v) == len(fields))

        def to_literal(v: Any, ctx: ConversionContext) -> Any:
            if not accepts(v):
                raise mismatch(hint, v)
            return {f: c.to_literal(x, ctx) for (f, c), x in zip(fields, v)}

        def to_python(p: Any, ctx: ConversionContext) -> Any:
            return hint(**{f: c.to_python(p[f], ctx) for f, c in fields})

        lt = {"type": "namedtuple", "fields": {f: c.literal_type for f, c in fields}}
        return Converter(self.name, self.version, to_literal, to_python, accepts, lt, py_type=hint,
                         from_cli=lambda s: _named_from_json(hint, fields, s), cli_form="JSON object")


def _named_from_json(hint: Any, fields: list[tuple[str, Converter]], text: str) -> Any:
    import json

    data = json.loads(text)
    if isinstance(data, list):
        data = dict(zip(hint._fields, data))
    return hint(**data)
