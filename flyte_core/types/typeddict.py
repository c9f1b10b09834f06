"""``TypedDict`` classes (``typing`` or ``typing_extensions``): a plain dict checked against the class's keys.

Keys are required or optional as Python defines them (``total=False``, ``NotRequired[...]``,
``Required[...]``); an optional key that was not given stays absent on the other side (never set to
None), so ``"key" in value`` means the same in every task. Each value is converted by the converter of
its key's hint, so a TypedDict may hold dataclasses, models, files, lists or other TypedDicts,
including itself (``children: NotRequired[list["Node"]]``).
"""

from __future__ import annotations

import json
import typing
from typing import Any

import attrs

from flyte_core.types.engine import TypeEngine
from flyte_core.types.interface import type_name
from flyte_core.types.shape import shape
from flyte_core.types.transformer import ConversionContext, Converter

# The key qualifiers a TypedDict annotation may carry; they say how the key is declared, not what its
# value is. Compared by name: typing_extensions may define its own forms for them.
_QUALIFIERS = ("Required", "NotRequired", "ReadOnly")


@attrs.frozen
class Key:
    """One key of a TypedDict: its name, its value's hint (qualifiers removed) and whether it must be there."""

    name: str
    hint: Any
    required: bool


def typeddict_keys(cls: type) -> tuple[Key, ...]:
    """The keys of the TypedDict ``cls`` in declaration order (base classes' keys first).

    Whether a key is required comes from ``Required``/``NotRequired`` when the resolved hint has one
    (``__required_keys__`` misses them when annotations are strings, as under ``from __future__
    import annotations``), else from the class's ``total``.
    """
    hints = _resolved_hints(cls)
    optional = set(cls.__optional_keys__)  # type: ignore[attr-defined]
    keys: list[Key] = []
    for name, hint in hints.items():
        required = name not in optional
        inner = hint
        while _qualifier(inner) is not None:
            q = _qualifier(inner)
            if q == "Required":
                required = True
            elif q == "NotRequired":
                required = False
            inner = typing.get_args(inner)[0]
        keys.append(Key(name, inner, required))
    return tuple(keys)


def _qualifier(hint: Any) -> str | None:
    origin = typing.get_origin(hint)
    name = getattr(origin, "_name", None) or getattr(origin, "__name__", None)
    module = getattr(origin, "__module__", "")
    return name if name in _QUALIFIERS and module in ("typing", "typing_extensions") else None


def _resolved_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except NameError:
        pass
    try:  # a class defined inside a function refers to itself by a name its module does not hold
        return typing.get_type_hints(cls, localns={cls.__name__: cls}, include_extras=True)
    except NameError as e:
        raise TypeError(f"cannot resolve the type annotations of TypedDict {cls.__qualname__} ({e}); define the "
                        "classes its keys refer to at module level") from None


class TypedDictT:
    """``TypedDict`` classes. Wire format (version 1): a JSON object of the keys present, in declaration
    order, each value as its hint's converter writes it. A key the class does not declare is refused on
    both sides, and so is a missing required key."""

    name = "typeddict"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        codec = _Codec(hint, engine)
        literal_type = {
            "type": "typeddict",
            "name": f"{hint.__module__}.{hint.__qualname__}",
            # Names only: a self-referencing TypedDict would nest forever.
            "fields": {k.name: type_name(k.hint) for k in codec.keys},
            "required": [k.name for k in codec.keys if k.required],
        }
        return Converter(self.name, self.version, codec.to_literal, codec.to_python, codec.accepts, literal_type,
                         py_type=dict, from_cli=codec.from_cli, cli_form="JSON object")


class _Codec:
    """The conversion functions of one TypedDict class. Value converters are looked up on first use, so
    a class that refers to itself does not ask the engine for itself while being compiled."""

    def __init__(self, cls: type, engine: TypeEngine) -> None:
        self.cls = cls
        self.engine = engine
        self.keys = typeddict_keys(cls)
        self._by_name = {k.name: k for k in self.keys}
        self._converters: dict[str, Converter] | None = None

    def converters(self) -> dict[str, Converter]:
        convs = self._converters
        if convs is None:
            convs = {}
            for k in self.keys:
                try:
                    convs[k.name] = self.engine.converter(k.hint)
                except (TypeError, ValueError) as e:
                    raise TypeError(f"key '{k.name}' of {self.label}: {e}") from None
            self._converters = convs
        return convs

    @property
    def label(self) -> str:
        return self.cls.__qualname__

    def accepts(self, value: Any) -> bool:
        return (isinstance(value, dict) and all(k in self._by_name for k in value)
                and all(k.name in value for k in self.keys if k.required))

    def _check_keys(self, value: dict[Any, Any], error: type[Exception]) -> None:
        for key in value:
            if key not in self._by_name:
                known = ", ".join(self._by_name) or "none"
                raise error(f"{self.label} has no key {key!r} (its keys: {known}); remove it or check its spelling")
        for k in self.keys:
            if k.required and k.name not in value:
                raise error(f"the value for {self.label} lacks required key '{k.name}'; give it, or declare it "
                            "NotRequired[...] (or the class total=False)")

    def to_literal(self, value: Any, ctx: ConversionContext) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise TypeError(f"expected {self.label} (a dict), got {type(value).__name__} {value!r:.80}")
        self._check_keys(value, TypeError)
        convs = self.converters()
        out: dict[str, Any] = {}
        for k in self.keys:
            if k.name in value:
                try:
                    out[k.name] = convs[k.name].to_literal(value[k.name], ctx)
                except (TypeError, ValueError) as e:
                    raise type(e)(f"key '{k.name}' of {self.label}: {e}") from None
        return out

    def to_python(self, payload: Any, ctx: ConversionContext) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise ValueError(f"a {self.label} literal must be a JSON object, got {type(payload).__name__}")
        self._check_keys(payload, ValueError)
        convs = self.converters()
        out: dict[str, Any] = {}
        for k in self.keys:
            if k.name in payload:
                try:
                    out[k.name] = convs[k.name].to_python(payload[k.name], ctx)
                except (TypeError, ValueError) as e:
                    raise ValueError(f"key '{k.name}' of {self.label}: {e}") from None
        return out

    def from_cli(self, text: str) -> dict[str, Any]:
        """A value from a JSON object given on the command line, each key's value shaped to its hint
        (nested objects become records, ISO text datetimes, ...)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object for {self.label}, got {type(data).__name__}")
        self._check_keys(data, ValueError)
        return {name: shape(data[name], self._by_name[name].hint, self.engine)
                for name in self._by_name if name in data}
