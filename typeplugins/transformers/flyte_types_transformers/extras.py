"""``FlytePickle`` and ``Renderable``, as Flyte 2 names them."""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


class FlytePickle(Generic[T]):
    """The type Flyte 2 gives values it has no transformer for (they travel pickled). flyte-core
    pickles such values too, with a warning naming the type; this class exists for code that names
    it (``FlytePickle[MyType].python_type()``)."""

    @classmethod
    def python_type(cls) -> Any:
        """The pickled type (``NoneType`` for the bare class)."""
        return type(None)

    def __class_getitem__(cls, python_type: Any) -> Any:
        if python_type is None:
            return cls

        class _Pickled(FlytePickle):  # type: ignore[type-arg]
            __origin__ = FlytePickle

            @classmethod
            def python_type(cls) -> Any:
                return python_type

        return _Pickled


@runtime_checkable
class Renderable(Protocol):
    """Anything with ``to_html(value) -> str``: a renderer for reports, also usable in
    ``Annotated[T, renderer]`` (``TypeEngine.to_html`` uses it)."""

    def to_html(self, python_value: Any) -> str:
        """HTML for ``python_value``."""
        ...
