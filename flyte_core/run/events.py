"""What observers are told: run and action phase changes."""

from __future__ import annotations

import attrs

from flyte_core.runstore.records import ActionRecord, Phase, RunRecord


@attrs.frozen
class RunEvent:
    """A run started or reached a terminal phase."""

    run: RunRecord
    phase: Phase


@attrs.frozen
class ActionEvent:
    """An action changed phase; ``action`` is its record after the change."""

    run: str
    action: ActionRecord
    phase: Phase
    attempt: int
    at: float
    message: str = ""
