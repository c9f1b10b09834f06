"""The transformer for Pydantic v2 models: pydantic's own JSON serialisation out, its validation in.

Wire format (version 1): the payload is the model's JSON form as pydantic writes it,
``model_dump(mode="json", by_alias=False, round_trip=True)``: a JSON object keyed by *field names*
(never aliases), without computed fields. It is read back with
``model_validate_json(..., by_alias=True, by_name=True)``, so every field, model and after/before
validator runs again in the task that receives the value.

A plain ``dict`` given where a model is declared is validated into the model first, as Flyte 2 does:
``flyte.run(task, query={"q": "x"})`` gets the model's defaults for the fields the dict leaves out,
and a dict that does not validate is refused naming the model and pydantic's errors.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
from pydantic_core import PydanticSerializationError

from flyte_core.extend import ConversionContext, Converter, TypeEngine, type_name

__all__ = ["PYDANTIC_MODEL", "PydanticModelTransformer"]


class PydanticModelTransformer:
    """Converts instances of one ``pydantic.BaseModel`` subclass (including ``RootModel`` and
    parametrised generic models) to their JSON form and back."""

    name = "pydantic"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        """The converter for the model class ``hint``; nested models are pydantic's business."""
        cls: type[pydantic.BaseModel] = hint
        label = type_name(cls)

        def accepts(value: Any) -> bool:
            return isinstance(value, cls | dict)

        def to_literal(value: Any, _ctx: ConversionContext) -> Any:
            if isinstance(value, dict):
                value = _validate_dict(cls, label, value)
            if not isinstance(value, cls):
                raise TypeError(f"expected {label} (a pydantic model), got {type(value).__name__} {value!r:.80}")
            try:
                # What `value.model_dump` does, but through the declared class's serializer: a subclass
                # instance is written as the declared class (extra fields dropped), so the receiving
                # side can always read it. Looked up per call: model_rebuild() replaces it.
                # round_trip drops computed fields (extra="forbid" models would refuse them back);
                # warnings="error" turns pydantic's "serialized value may not be as expected" into an
                # error, e.g. for an instance built with model_construct() from wrong types.
                return cls.__pydantic_serializer__.to_python(
                    value, mode="json", by_alias=False, round_trip=True, warnings="error"
                )
            except PydanticSerializationError as e:
                raise ValueError(f"pydantic cannot write this {label} as JSON: {e}") from None

        def to_python(payload: Any, _ctx: ConversionContext) -> Any:
            # JSON-mode validation is the exact inverse of mode="json" dumping: python-mode
            # model_validate refuses ISO strings for datetimes under strict=True, and misreads
            # base64 bytes (ser_json_bytes="base64").
            return _validate(cls, label, json.dumps(payload, separators=(",", ":")))

        def from_cli(text: str) -> Any:
            return _validate(cls, label, text)

        form = "JSON value" if issubclass(cls, pydantic.RootModel) else "JSON object"
        literal_type = {"type": "pydantic", "model": f"{cls.__module__}.{cls.__qualname__}"}
        return Converter(self.name, self.version, to_literal, to_python, accepts, literal_type, py_type=cls,
                         from_cli=from_cli, cli_form=form)


def _validate_dict(cls: type[pydantic.BaseModel], label: str, value: dict[Any, Any]) -> pydantic.BaseModel:
    """``cls`` from a dict of field values (names or aliases), python-mode validation: the dict may hold
    Python objects (datetimes, nested model instances) as well as JSON values."""
    try:
        return cls.model_validate(value, by_alias=True, by_name=True)
    except pydantic.ValidationError as e:
        raise TypeError(f"the dict given for {label} does not validate: {e}") from None


def _validate(cls: type[pydantic.BaseModel], label: str, text: str) -> pydantic.BaseModel:
    """``cls`` from JSON text, field names and aliases both accepted; a ValueError naming the model
    and pydantic's errors when it does not validate."""
    try:
        return cls.model_validate_json(text, by_alias=True, by_name=True)
    except pydantic.ValidationError as e:
        # str(e) starts "N validation error(s) for <Model>" and lists each field, input and reason.
        raise ValueError(f"the value does not validate as {label}: {e}") from None


#: The one transformer instance the plugin hands out.
PYDANTIC_MODEL = PydanticModelTransformer()
