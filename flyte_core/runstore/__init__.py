"""The run store: every run and action, their inputs, outputs, phases, attempts, errors and logs.

:class:`RunStore` is the interface; :class:`~flyte_core.runstore.sqlite.SQLiteRunStore` the
default, embedded implementation. A server database can replace it by implementing the protocol.
"""

from flyte_core.runstore.records import ActionRecord, CacheEntry, ErrorInfo, EventRecord, LogLine, Phase, RunRecord
from flyte_core.runstore.store import RunStore

__all__ = ["ActionRecord", "CacheEntry", "ErrorInfo", "EventRecord", "LogLine", "Phase", "RunRecord", "RunStore"]
