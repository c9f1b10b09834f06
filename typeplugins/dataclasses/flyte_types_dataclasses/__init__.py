"""flyte-types-dataclasses: Python dataclasses and attrs classes as task inputs and outputs.

Nothing to import: once the distribution is installed, any ``@dataclasses.dataclass`` or attrs
class (``@attrs.define``, ``@attrs.frozen``, ``@attr.s``) used in a task signature travels as a JSON
object of its fields, each converted by the type engine for its own hint, so fields may be lists,
dicts, Optionals, enums, datetimes, other records, files, frames or the class itself.

:data:`DATACLASS` and :data:`ATTRS` are the transformers, for embedders that register them by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core.extend import lazy_exports

if TYPE_CHECKING:
    from flyte_types_dataclasses.record import ATTRS, DATACLASS, RecordTransformer

# Imported on first use: the plugin's hook loads them for the first record type a run meets, so a
# process whose tasks take none never pays for them.
_LAZY = {name: "flyte_types_dataclasses.record" for name in ("ATTRS", "DATACLASS", "RecordTransformer")}

__all__ = ["ATTRS", "DATACLASS", "RecordTransformer"]

__getattr__ = lazy_exports(__name__, _LAZY)
