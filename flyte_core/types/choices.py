"""Values from a fixed set: ``enum.Enum`` classes (by value) and ``typing.Literal[...]``."""

from __future__ import annotations

import enum
import typing
from typing import Any

from flyte_core.interface import type_name
from flyte_core.types.common import mismatch
from flyte_core.types.engine import TypeEngine
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
    """``typing.Literal["a", "b", 1]``: the value itself, checked against the allowed ones."""

    name = "literal"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        allowed = typing.get_args(hint)

        def accepts(v: Any) -> bool:
            return any(v == a and type(v) is type(a) for a in allowed)

        def to_literal(v: Any, _ctx: ConversionContext) -> Any:
            if not accepts(v):
                raise TypeError(f"expected one of {allowed!r} ({type_name(hint)}), got {v!r}")
            return v

        def to_python(p: Any, _ctx: ConversionContext) -> Any:
            if not accepts(p):
                raise ValueError(f"{p!r} is not one of {allowed!r}")
            return p

        def from_cli(text: str) -> Any:
            for a in allowed:
                if str(a) == text:
                    return a
            raise ValueError(f"{text!r} is not one of {', '.join(map(str, allowed))}")

        return Converter(self.name, self.version, to_literal, to_python, accepts,
                         {"type": "literal", "values": list(allowed)}, from_cli=from_cli,
                         cli_form="one of " + ", ".join(map(str, allowed)))
