"""Flyte 2's ``flyte.types.TypeEngine``: where users register their transformers.

The registry is process-wide, as in Flyte 2 (``TypeEngine.register`` runs when the user's module is
imported, in every process that runs its tasks). flyte-core's type hook asks :meth:`TypeEngine.registered`
for every type it meets (see ``plugin.py``); a registered type's values then travel as the Flyte 2
literal its transformer builds. The conversion classmethods (:meth:`to_literal`, ...) are for
transformers that delegate parts of a value, and for code that used them in Flyte 2.
"""

from __future__ import annotations

import logging
import threading
import typing
from collections.abc import KeysView, Mapping
from typing import Any, ClassVar

from flyte_types_transformers.builtin import builtin_transformer
from flyte_types_transformers.transformer import (
    RestrictedTypeTransformer,
    TypeTransformer,
    TypeTransformerFailedError,
)

#: Entry-point group of Flyte 2 type plugins: each entry is a callable that registers transformers.
PLUGIN_GROUP = "flyte.plugins.types"


class TypeEngine:
    """Registry of Flyte 2-style transformers, and conversions through them (all classmethods)."""

    _REGISTRY: ClassVar[dict[Any, TypeTransformer[Any]]] = {}
    _RESTRICTED_TYPES: ClassVar[list[Any]] = []
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _plugins_loaded: ClassVar[bool] = False

    # --- registering -------------------------------------------------------------------------

    @classmethod
    def register(cls, transformer: TypeTransformer[Any], additional_types: list[Any] | None = None) -> None:
        """Use ``transformer`` for its ``python_type`` (and ``additional_types``), and their subclasses.
        The same transformer class registered again (its module imported anew) replaces the first.

        :raises ValueError: if one of the types already has another transformer.
        """
        if not isinstance(transformer, TypeTransformer):
            raise TypeError("TypeEngine.register takes a flyte.types.TypeTransformer, got "
                            f"{type(transformer).__name__}")
        with cls._lock:
            for t in [transformer.python_type, *(additional_types or [])]:
                existing = cls._REGISTRY.get(t)
                if existing is not None and not _same_code(existing, transformer):
                    raise ValueError(f"Transformer {existing.name} for type {t} is already registered."
                                     f" Cannot override with {transformer.name}")
                cls._REGISTRY[t] = transformer

    @classmethod
    def register_additional_type(cls, transformer: TypeTransformer[Any], additional_type: Any,
                                 override: bool = False) -> None:
        """Use ``transformer`` for ``additional_type`` too (replacing another one only if ``override``)."""
        with cls._lock:
            if additional_type not in cls._REGISTRY or override:
                cls._REGISTRY[additional_type] = transformer

    @classmethod
    def register_restricted_type(cls, name: str, type: Any) -> None:
        """Refuse ``type`` as a task input or output (its conversions raise ``RestrictedTypeError``)."""
        cls._RESTRICTED_TYPES.append(type)
        cls.register(RestrictedTypeTransformer(name, type))

    @classmethod
    def get_available_transformers(cls) -> KeysView[Any]:
        """The types that have a registered transformer."""
        return cls._REGISTRY.keys()

    @classmethod
    def lazy_import_transformers(cls) -> None:
        """Load Flyte 2 type plugins (entry points of group ``flyte.plugins.types``) once."""
        if cls._plugins_loaded:
            return
        cls._plugins_loaded = True
        from importlib.metadata import entry_points

        for ep in entry_points(group=PLUGIN_GROUP):
            try:
                loaded = ep.load()
                if callable(loaded):
                    loaded()
            except Exception as e:  # a plugin written against Flyte 2's internals: skipped, as Flyte 2 does
                logging.getLogger("flyte").warning("Type transformer plugin %s (%s) failed to load: %s",
                                                   ep.name, ep.value, e)

    # --- finding -----------------------------------------------------------------------------

    @classmethod
    def registered(cls, python_type: Any) -> TypeTransformer[Any] | None:
        """The transformer registered for exactly ``python_type`` (a class or generic origin), or None."""
        try:
            return cls._REGISTRY.get(python_type)
        except TypeError:  # unhashable
            return None

    @classmethod
    def get_transformer(cls, python_type: Any) -> TypeTransformer[Any]:
        """The transformer for ``python_type``: ``Annotated[T, transformer]``, then a registered one
        (by the type, its generic origin, then its classes' MRO), then a built-in one.

        :raises ValueError: if there is none.
        """
        cls.lazy_import_transformers()
        if typing.get_origin(python_type) is typing.Annotated:
            base, *meta = typing.get_args(python_type)
            for m in meta:
                if isinstance(m, TypeTransformer):
                    return m
            return cls.get_transformer(base)
        candidates = [python_type, typing.get_origin(python_type)]
        candidates.extend(getattr(python_type, "__mro__", ())[1:])
        for c in candidates:
            found = cls.registered(c) if c is not None else None
            if found is not None:
                return found
        builtin = builtin_transformer(python_type)
        if builtin is not None:
            return builtin
        raise ValueError(f"No flyte.types transformer for {python_type}: register one with "
                         "TypeEngine.register(...). (Task inputs and outputs of other types need none: "
                         "flyte-core's own type plugins carry them.)")

    # --- converting --------------------------------------------------------------------------

    @classmethod
    def to_literal_type(cls, python_type: Any) -> Any:
        """The Flyte 2 ``LiteralType`` of ``python_type``."""
        return cls.get_transformer(python_type).get_literal_type(_strip_annotated(python_type))

    @classmethod
    async def to_literal(cls, python_val: Any, python_type: Any, expected: Any) -> Any:
        """Convert ``python_val`` to a Flyte 2 ``Literal`` with its type's transformer."""
        transformer = cls.get_transformer(python_type)
        base = _strip_annotated(python_type)
        if transformer.type_assertions_enabled:
            transformer.assert_type(base, python_val)
        return await _maybe_await(transformer.to_literal(python_val, base, expected))

    @classmethod
    async def to_python_value(cls, lv: Any, expected_python_type: Any) -> Any:
        """Convert a Flyte 2 ``Literal`` back to a value of ``expected_python_type``."""
        transformer = cls.get_transformer(expected_python_type)
        return await _maybe_await(transformer.to_python_value(lv, _strip_annotated(expected_python_type)))

    @classmethod
    def to_html(cls, python_val: Any, expected_python_type: Any) -> str:
        """HTML for a report, by the type's transformer (or an ``Annotated`` renderer)."""
        if typing.get_origin(expected_python_type) is typing.Annotated:
            for m in typing.get_args(expected_python_type)[1:]:
                if callable(getattr(m, "to_html", None)) and not isinstance(m, TypeTransformer):
                    return str(m.to_html(python_val))
        return cls.get_transformer(expected_python_type).to_html(python_val, _strip_annotated(expected_python_type))

    @classmethod
    async def dict_to_literal_map(cls, d: Mapping[str, Any], type_hints: Mapping[str, Any]) -> Any:
        """A Flyte 2 ``LiteralMap`` of ``d``'s values, each converted by its type in ``type_hints``."""
        from flyteidl2.core import literals_pb2

        out = {}
        for k, v in d.items():
            if k not in type_hints:
                raise ValueError(f"No type hint for '{k}'; give one in type_hints.")
            t = type_hints[k]
            out[k] = await cls.to_literal(v, t, cls.to_literal_type(t))
        return literals_pb2.LiteralMap(literals=out)

    @classmethod
    async def literal_map_to_kwargs(cls, lm: Any, python_types: Mapping[str, Any]) -> dict[str, Any]:
        """The values of a Flyte 2 ``LiteralMap`` (or a mapping of literals), by ``python_types``."""
        literals = lm.literals if hasattr(lm, "literals") else lm
        missing = [k for k in python_types if k not in literals]
        if missing:
            raise ValueError(f"The literal map has no value for {', '.join(missing)}.")
        return {k: await cls.to_python_value(literals[k], t) for k, t in python_types.items()}

    @classmethod
    def guess_python_type(cls, flyte_type: Any) -> Any:
        """The Python type of a Flyte 2 ``LiteralType`` (simple types, collections, string maps,
        and types of registered transformers that can tell).

        :raises ValueError: when it cannot be guessed.
        """
        from flyte_types_transformers.interface import guess_type

        return guess_type(flyte_type, cls._REGISTRY.values())

    @classmethod
    def guess_python_types(cls, flyte_variable_list: Any) -> dict[str, Any]:
        """:meth:`guess_python_type` of each ``VariableEntry`` (``key``, ``value.type``) of a Flyte 2
        ``VariableMap.variables`` (a ``{name: Variable}`` mapping works too)."""
        entries = flyte_variable_list.items() if isinstance(flyte_variable_list, Mapping) else (
            (e.key, e.value) for e in flyte_variable_list)
        return {k: cls.guess_python_type(v.type) for k, v in entries}


def _same_code(a: TypeTransformer[Any], b: TypeTransformer[Any]) -> bool:
    """True if ``b`` is ``a`` again from a re-executed module (a worker or test loading the user's
    file anew): the same transformer class, by module and name, under the same name."""
    ta, tb = type(a), type(b)
    return (a.name == b.name and ta.__module__ == tb.__module__ and ta.__qualname__ == tb.__qualname__
            and a is not b)


def _strip_annotated(t: Any) -> Any:
    return typing.get_args(t)[0] if typing.get_origin(t) is typing.Annotated else t


async def _maybe_await(value: Any) -> Any:
    """Transformers are async in Flyte 2; a plain method's result is taken as it is."""
    import inspect

    return await value if inspect.isawaitable(value) else value


__all__ = ["TypeEngine", "TypeTransformerFailedError"]
