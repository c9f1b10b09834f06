"""The transformers: a dataclass or attrs instance travels as a JSON object of its fields, each
converted by the type engine's converter for that field's hint.

Field converters are looked up on first use, not when the class is compiled: a self-referencing
class (``children: list["Node"]``) would otherwise ask the engine for ``Node`` again while ``Node``
is being compiled, before the engine has cached it, and recurse forever.
"""

from __future__ import annotations

import json
from typing import Any

from flyte_core.extend import ConversionContext, Converter, TypeEngine, TypeTransformerError, type_name
from flyte_types_dataclasses.cli import shape_json
from flyte_types_dataclasses.fields import FieldSpec, RecordShape, is_record_class, record_shape

_MISSING = object()


class RecordTransformer:
    """Converts instances of one kind of record class (``kind``: ``dataclass`` or ``attrs``).

    Wire format (``version`` 1): ``{field name: field payload}`` in declaration order, a field's
    payload being what the converter of its hint makes of it. A payload that lacks a field with a
    default gets the default (it was written before the field existed); a payload with a field the
    class does not have is refused.
    """

    version = 1

    def __init__(self, kind: str) -> None:
        self.name = kind
        self.kind = kind

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        """Build the converter for the record class ``hint`` (or a generic alias of one)."""
        codec = RecordCodec(record_shape(hint), engine)
        shape = codec.shape
        literal_type = {
            "type": self.kind,
            "name": f"{shape.cls.__module__}.{shape.cls.__qualname__}",
            # Names only, not nested literal types: a recursive class would nest forever.
            "fields": {f.name: type_name(f.hint) for f in shape.fields},
        }
        return Converter(self.name, self.version, codec.to_literal, codec.to_python, codec.accepts, literal_type,
                         py_type=shape.cls, from_cli=codec.from_cli, cli_form="JSON object")


class RecordCodec:
    """The conversion functions for one record class, bound to one type engine."""

    def __init__(self, shape: RecordShape, engine: TypeEngine) -> None:
        self.shape = shape
        self.engine = engine
        self._converters: tuple[Converter, ...] | None = None
        self._by_key = {f.name: f for f in shape.fields}

    def converters(self) -> tuple[Converter, ...]:
        """The field converters, in field order (looked up on first use; see the module docstring)."""
        convs = self._converters
        if convs is None:
            convs = self._converters = tuple(self._field_converter(f) for f in self.shape.fields)
        return convs

    def _field_converter(self, field: FieldSpec) -> Converter:
        try:
            return self.engine.converter(field.hint)
        except (TypeError, ValueError) as e:
            raise _in_field(self.shape, field.name, e) from None

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is an instance of the class, or a dict that may be made into one."""
        return isinstance(value, self.shape.cls | dict)

    def to_literal(self, value: Any, ctx: ConversionContext) -> dict[str, Any]:
        """The payload of ``value``: its fields by name. A plain dict is first made into an instance
        (:meth:`from_mapping`), as Flyte 2 does for a dict passed where a dataclass is declared."""
        shape = self.shape
        if isinstance(value, dict):
            value = self.from_mapping(value)
        if not isinstance(value, shape.cls):
            raise TypeError(f"expected {shape.label}, got {type(value).__name__} {value!r:.80}")
        out: dict[str, Any] = {}
        for f, conv in zip(shape.fields, self.converters()):
            x = getattr(value, f.name, _MISSING)
            if x is _MISSING:  # a field outside __init__ that was never set: nothing to send
                continue
            try:
                out[f.name] = conv.to_literal(x, ctx)
            except (TypeError, ValueError) as e:
                raise _in_field(shape, f.name, e) from None
        return out

    def to_python(self, payload: Any, ctx: ConversionContext) -> Any:
        """Rebuild an instance from its payload."""
        shape = self.shape
        if not isinstance(payload, dict):
            raise ValueError(f"a {shape.label} literal must be a JSON object of its fields, "
                             f"got {type(payload).__name__}")
        for key in payload:
            if key not in self._by_key:
                raise ValueError(self._unknown_message(key, "the value was written for another version of the class"))
        values: dict[str, Any] = {}
        for f, conv in zip(shape.fields, self.converters()):
            if f.name in payload:
                try:
                    values[f.name] = conv.to_python(payload[f.name], ctx)
                except (TypeError, ValueError) as e:
                    raise _in_field(shape, f.name, e) from None
        return self.build(values)

    def from_cli(self, text: str) -> Any:
        """An instance from a JSON object given on the command line (nested objects become nested
        instances, each field shaped to its hint)."""
        data = json.loads(text)
        return self.from_json(data)

    def from_json(self, data: Any) -> Any:
        """An instance from decoded JSON (a dict of fields; attrs fields also by their init alias)."""
        shape = self.shape
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object for {shape.label}, got {type(data).__name__}")
        by_key = dict(self._by_key)
        by_key.update({f.init_name: f for f in shape.fields if f.init_name is not None and f.init_name not in by_key})
        values: dict[str, Any] = {}
        for key, raw in data.items():
            f = by_key.get(key)
            if f is None:
                raise ValueError(self._unknown_message(key, "remove it or check its spelling"))
            try:
                values[f.name] = shape_json(raw, f.hint, self.engine)
            except (TypeError, ValueError) as e:
                raise _in_field(shape, f.name, e) from None
        return self.build(values)

    def from_mapping(self, data: dict[Any, Any]) -> Any:
        """An instance from a dict of Python values by field name (attrs fields also by their init
        alias); fields it leaves out take their defaults, and a dict value for a field whose hint is a
        record class becomes an instance of that class too."""
        shape = self.shape
        by_key = dict(self._by_key)
        by_key.update({f.init_name: f for f in shape.fields if f.init_name is not None and f.init_name not in by_key})
        values: dict[str, Any] = {}
        for key, raw in data.items():
            f = by_key.get(key)
            if f is None:
                raise TypeError(self._unknown_message(key, "remove it or check its spelling"))
            if isinstance(raw, dict) and is_record_class(f.hint):
                raw = RecordCodec(record_shape(f.hint), self.engine).from_mapping(raw)
            values[f.name] = raw
        try:
            return self.build(values)
        except ValueError as e:
            raise TypeError(str(e)) from None

    def build(self, values: dict[str, Any]) -> Any:
        """Construct the class from field values by attribute name; missing fields take defaults."""
        shape = self.shape
        kwargs: dict[str, Any] = {}
        late: list[tuple[str, Any]] = []
        for f in shape.fields:
            if f.name in values:
                if f.init_name is not None:
                    kwargs[f.init_name] = values[f.name]
                else:
                    late.append((f.name, values[f.name]))
            elif f.init_name is not None and not f.has_default:
                raise ValueError(f"the value for {shape.label} lacks field '{f.name}', which has no default")
        try:
            obj = shape.cls(**kwargs)
        except (TypeError, ValueError) as e:
            kind = ValueError if isinstance(e, ValueError) else TypeError
            raise kind(f"could not build {shape.label} from its fields: {e}") from None
        for name, value in late:
            # object.__setattr__ because frozen classes refuse plain assignment.
            object.__setattr__(obj, name, value)
        return obj

    def _unknown_message(self, key: str, advice: str) -> str:
        known = ", ".join(f.name for f in self.shape.fields) or "none"
        return f"{self.shape.label} has no field '{key}' (its fields: {known}); {advice}"


def _in_field(shape: RecordShape, field: str, error: Exception) -> Exception:
    """``error`` with the field and class it happened in, keeping its kind."""
    msg = f"field '{field}' of {shape.label}: {error}"
    if isinstance(error, TypeTransformerError):
        return TypeTransformerError(msg)
    if isinstance(error, ValueError):
        return ValueError(msg)
    return TypeError(msg)


#: The transformer for dataclasses (literals named ``dataclass``).
DATACLASS = RecordTransformer("dataclass")
#: The transformer for attrs classes (literals named ``attrs``).
ATTRS = RecordTransformer("attrs")
