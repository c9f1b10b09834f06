"""Scalars: bool, int, str, None (JSON-native), float (NaN and infinities kept) and bytes (base64)."""

from __future__ import annotations

from typing import Any

from flyte_core.types.common import identity, mismatch
from flyte_core.types.engine import TypeEngine
from flyte_core.types.transformer import ConversionContext, Converter


class Scalar:
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
                raise mismatch(hint, v)
            return v

        return Converter(self.name, self.version, to_literal, identity, accepts, {"type": self.name},
                         py_type=py_type)


class Float:
    """``float``; ints are accepted and widened."""

    name = "float"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        def accepts(v: Any) -> bool:
            return isinstance(v, float) or (isinstance(v, int) and not isinstance(v, bool))

        def to_literal(v: Any, _ctx: ConversionContext) -> Any:
            if not accepts(v):
                raise mismatch(hint, v)
            f = float(v)
            # JSON has no NaN/inf; keep them as strings the reader turns back into floats.
            return f if f == f and f not in (float("inf"), float("-inf")) else repr(f)

        def to_python(p: Any, _ctx: ConversionContext) -> float:
            return float(p)

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "float"}, py_type=float)


class Bytes:
    """``bytes``, as base64 text."""

    name = "bytes"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        import base64  # here: most runs convert no bytes

        def accepts(v: Any) -> bool:
            return isinstance(v, bytes | bytearray)

        def to_literal(v: Any, _ctx: ConversionContext) -> str:
            if not accepts(v):
                raise mismatch(hint, v)
            return base64.b64encode(bytes(v)).decode("ascii")

        def to_python(p: str, _ctx: ConversionContext) -> bytes:
            return base64.b64decode(p)

        return Converter(self.name, self.version, to_literal, to_python, accepts, {"type": "bytes"}, py_type=bytes,
                         from_cli=lambda s: s.encode(), cli_form="text (UTF-8)")
