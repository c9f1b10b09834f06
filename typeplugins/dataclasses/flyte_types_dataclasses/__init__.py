"""flyte-types-dataclasses: Python dataclasses and attrs classes as task inputs and outputs.

Nothing to import: once the distribution is installed, any ``@dataclasses.dataclass`` or attrs
class (``@attrs.define``, ``@attrs.frozen``, ``@attr.s``) used in a task signature travels as a JSON
object of its fields, each converted by the type engine for its own hint, so fields may be lists,
dicts, Optionals, enums, datetimes, other records, files, frames or the class itself.

:data:`DATACLASS` and :data:`ATTRS` are the transformers, for embedders that register them by hand.
"""

from flyte_types_dataclasses.record import ATTRS, DATACLASS, RecordTransformer

__all__ = ["ATTRS", "DATACLASS", "RecordTransformer"]
