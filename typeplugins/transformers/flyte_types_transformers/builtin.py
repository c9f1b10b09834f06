"""Flyte 2 literals for Python's own types, so a user's transformer can delegate the parts of its
value to ``await TypeEngine.to_literal(part, type, expected)`` as it does in Flyte 2.

Covered: ``int``, ``float``, ``str``, ``bool``, ``None``, ``datetime``, ``timedelta``, ``list[T]``,
``dict[str, V]`` and ``Optional``/``Union`` of those and of registered types. (Task inputs and
outputs of these types never come here: flyte-core's own transformers carry them.)
"""

from __future__ import annotations

import datetime
import types
import typing
from collections.abc import Callable
from typing import Any

from flyte_types_transformers.transformer import TypeTransformer, TypeTransformerFailedError


def _pb() -> tuple[Any, Any]:
    from flyteidl2.core import literals_pb2, types_pb2

    return literals_pb2, types_pb2


class PrimitiveTransformer(TypeTransformer[Any]):
    """One Python scalar type as one field of a Flyte 2 ``Primitive``."""

    def __init__(self, t: type, simple: str, field: str, to_pb: Callable[[Any], Any],
                 from_pb: Callable[[Any], Any]) -> None:
        super().__init__(t.__name__, t)
        self._simple, self._field, self._to_pb, self._from_pb = simple, field, to_pb, from_pb

    def assert_type(self, t: Any, v: Any) -> None:
        """``bool`` is no ``int`` here, and an ``int`` is a fine ``float``."""
        ok = isinstance(v, self.python_type) and not (self.python_type is int and isinstance(v, bool))
        if self.python_type is float and isinstance(v, int) and not isinstance(v, bool):
            ok = True
        if not ok:
            raise TypeTransformerFailedError(f"Expected value of type {self.python_type} but got '{v}' of type "
                                             f"{type(v)}")

    def get_literal_type(self, t: Any = None) -> Any:
        """``LiteralType(simple=...)``."""
        _, types_pb2 = _pb()
        return types_pb2.LiteralType(simple=types_pb2.SimpleType.Value(self._simple))

    async def to_literal(self, python_val: Any, python_type: Any, expected: Any) -> Any:
        """``Literal(scalar=Scalar(primitive=Primitive(<field>=value)))``."""
        self.assert_type(python_type, python_val)
        literals_pb2, _ = _pb()
        prim = literals_pb2.Primitive()
        value = self._to_pb(python_val)
        if self._field in ("datetime", "duration"):
            getattr(prim, self._field).CopyFrom(value)
        else:
            setattr(prim, self._field, value)
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=prim))

    async def to_python_value(self, lv: Any, expected_python_type: Any) -> Any:
        """The primitive's field, as the Python type."""
        prim = lv.scalar.primitive
        if prim.WhichOneof("value") != self._field:
            raise TypeTransformerFailedError(f"Cannot convert literal {lv} to {self.python_type}")
        return self._from_pb(getattr(prim, self._field))


def _timestamp(v: datetime.datetime) -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp

    ts = Timestamp()
    ts.FromDatetime(v.astimezone(datetime.UTC) if v.tzinfo is not None else v)
    return ts


def _duration(v: datetime.timedelta) -> Any:
    from google.protobuf.duration_pb2 import Duration

    d = Duration()
    d.FromTimedelta(v)
    return d


class NoneTransformer(TypeTransformer[None]):
    """``None`` as ``Scalar(none_type=Void())``."""

    def __init__(self) -> None:
        super().__init__("none", type(None))

    def get_literal_type(self, t: Any = None) -> Any:
        """``LiteralType(simple=NONE)``."""
        _, types_pb2 = _pb()
        return types_pb2.LiteralType(simple=types_pb2.SimpleType.NONE)

    async def to_literal(self, python_val: Any, python_type: Any, expected: Any) -> Any:
        """The void literal."""
        if python_val is not None:
            raise TypeTransformerFailedError(f"Expected None, got {python_val!r}")
        literals_pb2, _ = _pb()
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))

    async def to_python_value(self, lv: Any, expected_python_type: Any) -> None:
        """None."""
        return None


class ListTransformer(TypeTransformer[list[Any]]):
    """``list[T]`` as a ``LiteralCollection`` of T's literals."""

    def __init__(self) -> None:
        super().__init__("Typed List", list)

    @staticmethod
    def item_type(t: Any) -> Any:
        """``T`` of ``list[T]`` (refuses a bare ``list``: its items have no type to convert by)."""
        args = typing.get_args(t)
        if not args:
            raise TypeTransformerFailedError(f"{t} names no item type; use list[T].")
        return args[0]

    def get_literal_type(self, t: Any) -> Any:
        """``LiteralType(collection_type=<T's type>)``."""
        from flyte_types_transformers.engine import TypeEngine

        _, types_pb2 = _pb()
        return types_pb2.LiteralType(collection_type=TypeEngine.to_literal_type(self.item_type(t)))

    async def to_literal(self, python_val: Any, python_type: Any, expected: Any) -> Any:
        """Each item by its own transformer."""
        from flyte_types_transformers.engine import TypeEngine

        if not isinstance(python_val, list):
            raise TypeTransformerFailedError(f"Expected a list, got {type(python_val).__name__}")
        literals_pb2, _ = _pb()
        item = self.item_type(python_type)
        sub = TypeEngine.to_literal_type(item)
        lits = [await TypeEngine.to_literal(v, item, sub) for v in python_val]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=lits))

    async def to_python_value(self, lv: Any, expected_python_type: Any) -> list[Any]:
        """Each item back by its own transformer."""
        from flyte_types_transformers.engine import TypeEngine

        item = self.item_type(expected_python_type)
        return [await TypeEngine.to_python_value(x, item) for x in lv.collection.literals]


class DictTransformer(TypeTransformer[dict[str, Any]]):
    """``dict[str, V]`` as a ``LiteralMap`` of V's literals."""

    def __init__(self) -> None:
        super().__init__("Typed Dict", dict)

    @staticmethod
    def value_type(t: Any) -> Any:
        """``V`` of ``dict[str, V]`` (other key types have no Flyte 2 map literal)."""
        args = typing.get_args(t)
        if len(args) != 2 or args[0] is not str:
            raise TypeTransformerFailedError(f"{t}: only dict[str, V] has a Flyte 2 map literal.")
        return args[1]

    def get_literal_type(self, t: Any) -> Any:
        """``LiteralType(map_value_type=<V's type>)``."""
        from flyte_types_transformers.engine import TypeEngine

        _, types_pb2 = _pb()
        return types_pb2.LiteralType(map_value_type=TypeEngine.to_literal_type(self.value_type(t)))

    async def to_literal(self, python_val: Any, python_type: Any, expected: Any) -> Any:
        """Each value by its own transformer."""
        from flyte_types_transformers.engine import TypeEngine

        if not isinstance(python_val, dict):
            raise TypeTransformerFailedError(f"Expected a dict, got {type(python_val).__name__}")
        literals_pb2, _ = _pb()
        vt = self.value_type(python_type)
        sub = TypeEngine.to_literal_type(vt)
        lits = {str(k): await TypeEngine.to_literal(v, vt, sub) for k, v in python_val.items()}
        return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=lits))

    async def to_python_value(self, lv: Any, expected_python_type: Any) -> dict[str, Any]:
        """Each value back by its own transformer."""
        from flyte_types_transformers.engine import TypeEngine

        vt = self.value_type(expected_python_type)
        return {k: await TypeEngine.to_python_value(v, vt) for k, v in lv.map.literals.items()}


class UnionTransformer(TypeTransformer[Any]):
    """``Optional[T]`` / ``Union[...]``: the first member that takes the value, recorded with its
    literal type (``Scalar(union=Union(value, type))``) so reading picks the same member."""

    def __init__(self) -> None:
        super().__init__("Typed Union", typing.Union)  # type: ignore[arg-type]

    def get_literal_type(self, t: Any) -> Any:
        """``LiteralType(union_type=UnionType(variants=[...]))``."""
        from flyte_types_transformers.engine import TypeEngine

        _, types_pb2 = _pb()
        variants = [TypeEngine.to_literal_type(m) for m in typing.get_args(t)]
        return types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=variants))

    async def to_literal(self, python_val: Any, python_type: Any, expected: Any) -> Any:
        """The first member whose transformer converts the value."""
        from flyte_types_transformers.engine import TypeEngine

        literals_pb2, _ = _pb()
        problems = []
        for member in typing.get_args(python_type):
            try:
                lt = TypeEngine.to_literal_type(member)
                lit = await TypeEngine.to_literal(python_val, member, lt)
            except (TypeError, ValueError, AssertionError) as e:
                problems.append(f"{member}: {e}")
                continue
            return literals_pb2.Literal(scalar=literals_pb2.Scalar(union=literals_pb2.Union(value=lit, type=lt)))
        raise TypeTransformerFailedError(f"No member of {python_type} takes {python_val!r}: {'; '.join(problems)}")

    async def to_python_value(self, lv: Any, expected_python_type: Any) -> Any:
        """The member whose literal type the union literal recorded."""
        from flyte_types_transformers.engine import TypeEngine

        union = lv.scalar.union
        for member in typing.get_args(expected_python_type):
            if TypeEngine.to_literal_type(member) == union.type:
                return await TypeEngine.to_python_value(union.value, member)
        raise TypeTransformerFailedError(f"No member of {expected_python_type} has literal type {union.type}")


def builtin_transformer(python_type: Any) -> TypeTransformer[Any] | None:
    """The built-in Flyte 2-style transformer for ``python_type``, or None."""
    origin = typing.get_origin(python_type)
    if origin is list:
        return _LIST
    if origin is dict:
        return _DICT
    if origin is typing.Union or isinstance(python_type, types.UnionType):
        return _UNION
    if python_type is None or python_type is type(None):
        return _NONE
    return _PRIMITIVES.get(python_type)


_PRIMITIVES: dict[Any, TypeTransformer[Any]] = {
    int: PrimitiveTransformer(int, "INTEGER", "integer", int, int),
    float: PrimitiveTransformer(float, "FLOAT", "float_value", float, float),
    str: PrimitiveTransformer(str, "STRING", "string_value", str, str),
    bool: PrimitiveTransformer(bool, "BOOLEAN", "boolean", bool, bool),
    datetime.datetime: PrimitiveTransformer(datetime.datetime, "DATETIME", "datetime", _timestamp,
                                            lambda ts: ts.ToDatetime(tzinfo=datetime.UTC)),
    datetime.timedelta: PrimitiveTransformer(datetime.timedelta, "DURATION", "duration", _duration,
                                             lambda d: d.ToTimedelta()),
}
_NONE = NoneTransformer()
_LIST = ListTransformer()
_DICT = DictTransformer()
_UNION = UnionTransformer()
