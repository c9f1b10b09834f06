"""Flyte 2's ``flyte.types`` for flyte-core: user ``TypeTransformer`` subclasses registered with
``TypeEngine.register`` carry their types across tasks as the Flyte 2 literals they build.

Users import these names from ``flyte.types``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core.extend import lazy_exports

if TYPE_CHECKING:
    from flyte_types_transformers.engine import TypeEngine
    from flyte_types_transformers.extras import FlytePickle, Renderable
    from flyte_types_transformers.interface import guess_interface
    from flyte_types_transformers.strings import literal_string_repr
    from flyte_types_transformers.transformer import TypeTransformer, TypeTransformerFailedError

# Imported on first use: loading the plugin (every run does) must not import the engine, whose
# registry being loaded is how the plugin knows a transformer may have been registered.
_LAZY = {
    "TypeEngine": "flyte_types_transformers.engine",
    "FlytePickle": "flyte_types_transformers.extras",
    "Renderable": "flyte_types_transformers.extras",
    "guess_interface": "flyte_types_transformers.interface",
    "literal_string_repr": "flyte_types_transformers.strings",
    "TypeTransformer": "flyte_types_transformers.transformer",
    "TypeTransformerFailedError": "flyte_types_transformers.transformer",
}

__all__ = [
    "FlytePickle",
    "Renderable",
    "TypeEngine",
    "TypeTransformer",
    "TypeTransformerFailedError",
    "guess_interface",
    "literal_string_repr",
]

__getattr__ = lazy_exports(__name__, _LAZY)
