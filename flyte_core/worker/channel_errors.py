"""How an error crosses the channel: an :class:`ErrorInfo` as a JSON object and back, the same way
in both directions (a child's failure to a worker, a traced call's failure to the controller)."""

from __future__ import annotations

from typing import Any

from flyte_core.errors.info import ErrorInfo

#: The fields of an :class:`ErrorInfo` a channel message carries.
ERROR_FIELDS = ("code", "kind", "message", "traceback", "action", "exc_type", "task")


def error_to_dict(info: ErrorInfo) -> dict[str, Any]:
    """``info`` as the JSON object a channel message carries."""
    return {k: getattr(info, k) for k in ERROR_FIELDS}


def error_from_dict(d: dict[str, Any]) -> ErrorInfo:
    """The :class:`ErrorInfo` a channel message's error object describes (unknown keys ignored)."""
    return ErrorInfo(**{k: d[k] for k in ERROR_FIELDS if k in d})
