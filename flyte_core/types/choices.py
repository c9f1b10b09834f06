"""Values from a fixed set: ``enum.Enum`` classes (by value) and ``typing.Literal[...]``."""

from __future__ import annotations

import enum
import typing
from typing import Any

from flyte_core.types.common import mismatch
from flyte_core.types.engine import TypeEngine
from flyte_core.types.interface import type_name
from flyte_core.types.transformer import ConversionContext, Converter


class EnumT:
    """An ``Enum`` member travels as its value (str, int, ...); the CLI takes names or values."""

    name = "enum"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        cls: type[enum.Enum] = hint

        def accepts(v: Any) -> bool:
            return isinstance(v, cls)

        def to_literal(v: Any, _ctx: ConversionContext) -> Any:
            if not isinstance(v, cls):
                raise mismatch(hint, v)
            return v.value

        def to_python(p: Any, _ctx: ConversionContext) -> Any:
            try:
                return cls(p)
            except ValueError:
                raise ValueError(f"{p!r} is not a value of {cls.__name__}") from None

        def from_cli(text: str) -> Any:
            if text in cls.__members__:
                return cls.__members__[text]
            for m in cls:
                if str(m.value) == text:
                    return m
            raise ValueError(f"{text!r} is not one of {', '.join(cls.__members__)}")

        names = ", ".join(cls.__members__)
        return Converter(self.name, self.version, to_literal, to_python, accepts,
                         {"type": "enum", "values": [m.value for m in cls]}, py_type=cls,
                         from_cli=from_cli, cli_form=f"one of {names}")


class LiteralT:
    """``typing.Literal["a", "b", 1]``: the value itself, checked against the allowed ones.

    A Literal that names Enum members (``Literal[Color.RED, "x"]``) accepts every member of those Enums:
    Flyte 2 does not check such Literals, and programs written for it pass sibling members. A member
    travels as ``{"enum": i, "value": v}`` (``i`` indexes the Enum classes the Literal names), which
    cannot be mistaken for the plain JSON scalars the other values travel as.
    """

    name = "literal"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        allowed = typing.get_args(hint)
        enums: list[type[enum.Enum]] = []
        for a in allowed:
            if isinstance(a, enum.Enum) and type(a) not in enums:
                enums.append(type(a))
        plain = tuple(a for a in allowed if not isinstance(a, enum.Enum))

        def accepts(v: Any) -> bool:
            if isinstance(v, enum.Enum):
                return type(v) in enums
            return any(v == a and type(v) is type(a) for a in plain)

        def to_literal(v: Any, _ctx: ConversionContext) -> Any:
            if not accepts(v):
                raise TypeError(f"expected one of {allowed!r} ({type_name(hint)}), got {v!r}")
            if isinstance(v, enum.Enum):
                return {"enum": enums.index(type(v)), "value": v.value}
            return v

        def to_python(p: Any, _ctx: ConversionContext) -> Any:
            if isinstance(p, dict) and "enum" in p:
                cls = enums[p["enum"]]
                try:
                    return cls(p["value"])
                except ValueError:
                    raise ValueError(f"{p['value']!r} is not a value of {cls.__name__}") from None
            if not accepts(p):
                raise ValueError(f"{p!r} is not one of {allowed!r}")
            return p

        def from_cli(text: str) -> Any:
            for a in plain:
                if str(a) == text:
                    return a
            for cls in enums:
                for m in cls:
                    if text in (m.name, str(m.value), str(m)):
                        return m
            raise ValueError(f"{text!r} is not one of {', '.join(map(str, allowed))}")

        values = [{"enum": type(a).__name__, "value": a.value} if isinstance(a, enum.Enum) else a for a in allowed]
        return Converter(self.name, self.version, to_literal, to_python, accepts,
                         {"type": "literal", "values": values}, from_cli=from_cli,
                         cli_form="one of " + ", ".join(map(str, allowed)))
