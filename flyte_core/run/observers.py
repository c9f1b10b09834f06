"""Per-run observers: objects told about every event of one run (progress displays, embedders)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from flyte_core.run.events import ActionEvent, RunEvent


@runtime_checkable
class RunObserver(Protocol):
    """Receives a run's events in order, on the run's recorder thread; keep each call fast.

    An observer that only shows states (a progress display) may set a class attribute
    ``latest_only = True``: :meth:`on_action` is then told each action's latest state once per batch
    the recorder writes, instead of each of its phase changes (an action queued, run and finished
    within one batch is one event, its final one). Every other observer is told every change.
    """

    def on_run(self, event: RunEvent) -> None:
        """The run started or ended."""
        ...

    def on_action(self, event: ActionEvent) -> None:
        """An action changed phase."""
        ...

    def on_log(self, action: str, stream: str, text: str) -> None:
        """An action wrote a log line."""
        ...

    def close(self) -> None:
        """The run is over and every event has been delivered."""
        ...
