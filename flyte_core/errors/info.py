"""What a failure is, as the run store records it and backends report it (kept apart from the
run store's other records: a worker process reports failures and needs none of the others)."""

from __future__ import annotations

import attrs


@attrs.frozen
class ErrorInfo:
    """A failure: ``code`` (e.g. the exception class name), ``kind`` (user, system), a one-line
    ``message``, the ``traceback`` of the task's own code when there is one, and ``exc_type``,
    the raised class as ``module:qualname``, so a caller can raise it again as that type; ``action``
    and ``task`` name where it happened (a parent failing because its child did keeps the child's)."""

    code: str
    kind: str
    message: str
    traceback: str = ""
    action: str | None = None
    exc_type: str | None = None
    task: str | None = None
