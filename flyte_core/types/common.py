"""Small helpers shared by the core transformers."""

from __future__ import annotations

from typing import Any

from flyte_core.types.interface import type_name
from flyte_core.types.transformer import ConversionContext


def identity(v: Any, _ctx: ConversionContext) -> Any:
    return v


def mismatch(hint: Any, value: Any) -> TypeError:
    """The error a transformer raises for a value that is not of the type it converts."""
    return TypeError(f"expected {type_name(hint)}, got {type(value).__name__} {value!r:.80}")


def is_typeddict(cls: Any) -> bool:
    """Whether ``cls`` is a TypedDict class (from ``typing`` or ``typing_extensions``)."""
    return (isinstance(cls, type) and issubclass(cls, dict) and hasattr(cls, "__required_keys__")
            and hasattr(cls, "__optional_keys__") and hasattr(cls, "__total__"))
