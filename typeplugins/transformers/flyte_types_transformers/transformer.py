"""Flyte 2's ``TypeTransformer`` base class, for users' transformers: the same constructor, properties
and methods to override, so a subclass written for Flyte 2 runs here unchanged.

A subclass converts one Python type to a Flyte 2 protobuf ``Literal`` (``flyteidl2.core.literals_pb2``)
and back; flyte-core never looks inside that literal, it only stores it (see ``adapter.py``).
"""

from __future__ import annotations

import types
import typing
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class TypeTransformerFailedError(TypeError, AssertionError, ValueError):
    """A value could not be converted (raised by transformers and by the type engine); it is a
    TypeError, AssertionError and ValueError at once, as in Flyte 2, so every handler catches it."""


class RestrictedTypeError(Exception):
    """A type registered as restricted (:meth:`TypeEngine.register_restricted_type`) was used as a
    task input or output."""


class TypeTransformer(Generic[T]):
    """Converts values of one Python type (``t``) to Flyte 2 literals and back.

    Override :meth:`get_literal_type`, :meth:`to_literal` and :meth:`to_python_value` (the last two
    are ``async`` in Flyte 2; plain methods work too), then ``TypeEngine.register(MyTransformer())``.
    """

    def __init__(self, name: str, t: type[T], enable_type_assertions: bool = True) -> None:
        self._t = t
        self._name = name
        self._type_assertions_enabled = enable_type_assertions

    @property
    def name(self) -> str:
        """The transformer's name (part of the literal's wire name here)."""
        return self._name

    @property
    def python_type(self) -> type[T]:
        """The Python type this transformer converts."""
        return self._t

    @property
    def type_assertions_enabled(self) -> bool:
        """True if the engine checks a value's type (:meth:`assert_type`) before :meth:`to_literal`."""
        return self._type_assertions_enabled

    def isinstance_generic(self, obj: Any, generic_alias: Any) -> None:
        """Raise if ``obj`` is not an instance of ``generic_alias``'s origin (``list`` for ``list[int]``)."""
        origin = typing.get_origin(generic_alias)
        if not isinstance(obj, origin):
            raise TypeTransformerFailedError(f"Value '{obj}' is not of container type {origin}")

    def assert_type(self, t: Any, v: Any) -> None:
        """Raise :class:`TypeTransformerFailedError` if ``v`` is not a value of type ``t``."""
        if isinstance(t, types.GenericAlias):
            self.isinstance_generic(v, t)
            return
        if isinstance(t, type) and not hasattr(t, "__origin__") and not isinstance(v, t):
            raise TypeTransformerFailedError(f"Expected value of type {t} but got '{v}' of type {type(v)}")

    def get_literal_type(self, t: Any) -> Any:
        """The Flyte 2 ``LiteralType`` (``flyteidl2.core.types_pb2``) of Python type ``t``."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_literal_type")

    def guess_python_type(self, literal_type: Any) -> type[T]:
        """The Python type for a Flyte 2 ``LiteralType`` (by default: cannot be guessed)."""
        raise ValueError("By default, transformers do not translate from Flyte types back to Python types")

    async def to_literal(self, python_val: T, python_type: Any, expected: Any) -> Any:
        """Convert ``python_val`` (declared as ``python_type``) to a Flyte 2 ``Literal``."""
        raise NotImplementedError(f"Conversion to Literal for python type {python_type} not implemented")

    async def to_python_value(self, lv: Any, expected_python_type: Any) -> T | None:
        """Convert the Flyte 2 ``Literal`` ``lv`` to a value of ``expected_python_type``."""
        raise NotImplementedError(f"Conversion to python value expected type {expected_python_type} from literal "
                                  "not implemented")

    def schema_match(self, schema: dict[str, Any]) -> bool:
        """True if a JSON schema fragment describes this transformer's type (Pydantic models by
        title, type and required fields; other types: False unless overridden)."""
        if not isinstance(schema, dict):
            return False
        own = getattr(self.python_type, "model_json_schema", None)
        if own is None:
            return False
        try:
            mine = own()
        except Exception:  # a model whose schema cannot be built matches nothing
            return False
        return (schema.get("title") == mine.get("title") and schema.get("type") == mine.get("type")
                and set(schema.get("required", [])) == set(mine.get("required", [])))

    def to_html(self, python_val: T, expected_python_type: Any) -> str:
        """HTML for a report (by default ``str(python_val)``)."""
        return str(python_val)

    def __repr__(self) -> str:
        return f"{self._name} Transforms ({self._t}) to Flyte native"

    __str__ = __repr__


class RestrictedTypeTransformer(TypeTransformer[T]):
    """The transformer of a restricted type: every conversion raises :class:`RestrictedTypeError`."""

    def get_literal_type(self, t: Any = None) -> Any:
        """Refuse: the type is restricted."""
        raise RestrictedTypeError(f"Transformer for type {self.python_type} is restricted currently")

    async def to_literal(self, python_val: T, python_type: Any, expected: Any) -> Any:
        """Refuse: the type is restricted."""
        raise RestrictedTypeError(f"Transformer for type {self.python_type} is restricted currently")

    async def to_python_value(self, lv: Any, expected_python_type: Any) -> T:
        """Refuse: the type is restricted."""
        raise RestrictedTypeError(f"Transformer for type {self.python_type} is restricted currently")
