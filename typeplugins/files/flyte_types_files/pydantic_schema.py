"""File and Dir as fields of Pydantic models (as in Flyte 2, where they are models themselves).

Inside a model a File or Dir is its reference, ``{"path", "name", "format", "hash"}``: nothing is
uploaded or downloaded when the model crosses a task boundary (Flyte 2 does the same). Pydantic is
imported only when a model with such a field is built.
"""

from __future__ import annotations

from typing import Any


def core_schema_for(cls: type) -> Any:
    """The pydantic-core schema of ``cls`` (File or Dir): validated from an instance or a dict of
    its fields, serialized as that dict."""
    from pydantic_core import core_schema as cs

    def build(fields: dict[str, Any]) -> Any:
        return cls(**fields)

    def dump(value: Any) -> dict[str, Any]:
        return {"path": value.path, "name": value.name, "format": value.format, "hash": value.hash}

    optional_str = cs.nullable_schema(cs.str_schema())
    from_dict = cs.no_info_after_validator_function(build, cs.typed_dict_schema({
        "path": cs.typed_dict_field(cs.str_schema()),
        "name": cs.typed_dict_field(optional_str, required=False),
        "format": cs.typed_dict_field(cs.str_schema(), required=False),
        "hash": cs.typed_dict_field(optional_str, required=False),
    }))
    return cs.json_or_python_schema(
        json_schema=from_dict,
        python_schema=cs.union_schema([cs.is_instance_schema(cls), from_dict]),
        serialization=cs.plain_serializer_function_ser_schema(dump),
    )
