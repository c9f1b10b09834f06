"""The type system: transformers turn Python values into literals (JSON-able payloads) and back."""

from flyte_core.types.engine import TypeEngine
from flyte_core.types.transformer import ConversionContext, Converter, TypeTransformer

__all__ = ["ConversionContext", "Converter", "TypeEngine", "TypeTransformer"]
