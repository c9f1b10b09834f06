"""What a record class (dataclass or attrs class) is made of: its fields, their resolved type hints,
which have defaults and how the constructor takes them."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any

import attrs


@attrs.frozen
class FieldSpec:
    """One field of a record class.

    ``name`` is the attribute name and the payload key; ``init_name`` the constructor keyword that
    sets it (an attrs private field ``_x`` is set by ``x``), or None when the constructor does not
    take it and it is set on the built instance instead; ``hint`` the resolved type hint;
    ``has_default`` whether a payload may leave it out.
    """

    name: str
    init_name: str | None
    hint: Any
    has_default: bool


@attrs.frozen
class RecordShape:
    """A record class with its fields in declaration order (base classes' fields first)."""

    cls: type
    fields: tuple[FieldSpec, ...]

    @property
    def label(self) -> str:
        """The class name used in messages."""
        return self.cls.__qualname__


def is_record_class(cls: Any) -> bool:
    """Whether ``cls`` is a dataclass or an attrs class (a class, not an instance)."""
    return isinstance(cls, type) and (dataclasses.is_dataclass(cls) or attrs.has(cls))


def record_shape(hint: Any) -> RecordShape:
    """The shape of the record class ``hint`` (a class, or a generic alias such as ``Box[int]``).

    Raises ``TypeError`` when the annotations cannot be resolved or the class cannot be rebuilt
    from its fields (its constructor needs something that is not a field).
    """
    cls = typing.get_origin(hint) or hint
    hints = _resolved_hints(cls)
    subst = _type_var_map(cls, hint)
    raw: list[tuple[str, str | None, Any, bool]] = []
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            declared = f.type if not isinstance(f.type, str) else Any
            raw.append((f.name, f.name if f.init else None, hints.get(f.name, declared), has_default))
    else:
        for a in attrs.fields(cls):
            declared = a.type if a.type is not None and not isinstance(a.type, str) else Any
            raw.append((a.name, a.alias if a.init else None, hints.get(a.name, declared),
                        a.default is not attrs.NOTHING))
    fields = _check_constructor(cls, raw)
    if subst is not None:
        fields = [attrs.evolve(f, hint=_substitute(f.hint, subst)) for f in fields]
    return RecordShape(cls, tuple(fields))


def _resolved_hints(cls: type) -> dict[str, Any]:
    """The class's annotations with string (forward) references resolved."""
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except NameError:
        pass
    # A class defined inside a function refers to itself by a name its module does not hold.
    try:
        return typing.get_type_hints(cls, localns={cls.__name__: cls}, include_extras=True)
    except NameError as e:
        raise TypeError(
            f"cannot resolve the type annotations of {cls.__qualname__} ({e}); define the classes its "
            "fields refer to at module level"
        ) from None


def _check_constructor(cls: type, raw: list[tuple[str, str | None, Any, bool]]) -> list[FieldSpec]:
    """Fields the constructor does not take are set after construction; a constructor parameter that
    is not a field and has no default (a required ``InitVar``, a custom ``__init__``) is an error."""
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):  # no signature to check: trust the field declarations
        return [FieldSpec(*r) for r in raw]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    fields = [
        FieldSpec(name, init if init is not None and (init in params or takes_any) else None, hint, has_default)
        for name, init, hint, has_default in raw
    ]
    given = {f.init_name for f in fields}
    for p in params.values():
        if (p.default is inspect.Parameter.empty and p.name not in given
                and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)):
            raise TypeError(
                f"{cls.__qualname__} cannot be rebuilt from its fields: its constructor needs '{p.name}', "
                "which is not a field; give it a default or make it a field"
            )
    return fields


def _type_var_map(cls: type, hint: Any) -> dict[Any, Any] | None:
    """Type variables of a generic record class mapped to the arguments of ``hint`` (``Any``, or the
    bound, for a bare generic class); None for a class that is not generic."""
    params: tuple[Any, ...] = getattr(cls, "__parameters__", ())
    if not params:
        return None
    args = typing.get_args(hint) if hint is not cls else ()
    if args and len(args) != len(params):
        raise TypeError(f"{hint!r} gives {len(args)} type arguments to {cls.__qualname__}, which takes {len(params)}")
    if not args:
        args = tuple(_unbound(p) for p in params)
    return dict(zip(params, args))


def _unbound(var: Any) -> Any:
    bound = getattr(var, "__bound__", None)
    return bound if bound is not None else Any


def _substitute(hint: Any, subst: dict[Any, Any]) -> Any:
    """``hint`` with the type variables of ``subst`` replaced (``list[T]`` -> ``list[int]``)."""
    if isinstance(hint, typing.TypeVar):
        return subst.get(hint, _unbound(hint))
    params: tuple[Any, ...] = getattr(hint, "__parameters__", ())
    if params and not isinstance(hint, type):  # an alias still open in some type variables
        return hint[tuple(_substitute(p, subst) for p in params)]
    return hint
