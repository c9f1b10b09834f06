"""Flyte 2's ``flyte.types`` for flyte-core: user ``TypeTransformer`` subclasses registered with
``TypeEngine.register`` carry their types across tasks as the Flyte 2 literals they build.

Users import these names from ``flyte.types``.
"""

from flyte_types_transformers.engine import TypeEngine
from flyte_types_transformers.extras import FlytePickle, Renderable
from flyte_types_transformers.interface import guess_interface
from flyte_types_transformers.strings import literal_string_repr
from flyte_types_transformers.transformer import TypeTransformer, TypeTransformerFailedError

__all__ = [
    "FlytePickle",
    "Renderable",
    "TypeEngine",
    "TypeTransformer",
    "TypeTransformerFailedError",
    "guess_interface",
    "literal_string_repr",
]
