"""How one attempt ended (:class:`ActionOutcome`), apart from the backend interface so a worker
process, which reports an outcome but drives no backend, does not import that interface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from flyte_core.errors.info import ErrorInfo


@attrs.define
class ActionOutcome:
    """The result of one attempt: output literals, or an error (never both). Read-only by
    convention, like :class:`~flyte_core.run.backend.ActionSpec` (made for every attempt)."""

    outputs: Mapping[str, Any] | None = None
    error: ErrorInfo | None = None
    #: True when retrying cannot help (the task raised NonRecoverableError, or inputs were invalid).
    final: bool = False
