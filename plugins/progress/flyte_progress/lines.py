"""Plain progress for consoles that are not terminals (CI logs, pipes): one line per finished
action and a summary when the run is over, nothing animated and nothing else."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from flyte_core.extend import ActionEvent, Phase
from flyte_progress.display import (
    PHASE_STYLES,
    action_line,
    format_counts,
    format_duration,
    phase_icon,
    run_elapsed,
)
from flyte_progress.tree import DEFAULT_MAX_CHILDREN, ProgressTree


class LinePrinter:
    """Prints ``✓ a0.1 step_one 0.01s`` when an action reaches a terminal phase.

    Every failure, abort and timeout is printed; successful children of one parent are printed up to
    ``max_children`` (a 1000-item map would otherwise flood the log) and the rest are only counted,
    which the summary line mentions.
    """

    def __init__(
        self,
        console: Console,
        tree: ProgressTree,
        *,
        max_children: int = DEFAULT_MAX_CHILDREN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.console = console
        self.tree = tree
        self.max_children = max_children
        self.clock = clock
        self._lock = threading.Lock()
        self._printed_ok: Counter[str | None] = Counter()
        self._suppressed = 0

    def action_changed(self, event: ActionEvent, previous: Phase | None) -> None:
        """Print a line if the action just reached a terminal phase (``previous`` is its phase before)."""
        rec = event.action
        if not rec.phase.is_terminal or (previous is not None and previous.is_terminal):
            return
        with self._lock:
            if rec.phase is Phase.SUCCEEDED:
                if self._printed_ok[rec.parent] >= self.max_children:
                    self._suppressed += 1
                    return
                self._printed_ok[rec.parent] += 1
        self._print(action_line(rec, event.at, self.clock()))

    def summary(self) -> None:
        """Print the closing line: the run's outcome and time, and counts of its actions."""
        if not self.tree.seen_event:
            return
        snap = self.tree.snapshot(0)
        run = snap.run
        if run is not None:
            text = phase_icon(run.phase)
            text.append(f" run {run.name} {PHASE_STYLES[run.phase].label}")
            elapsed = run_elapsed(run, self.clock())
            if elapsed is not None:
                text.append(f" in {format_duration(elapsed)}")
        else:
            text = Text("run")
        if snap.total:
            noun = "action" if snap.total == 1 else "actions"
            text.append(f" · {snap.total} {noun}: {format_counts(snap.counts)}")
        with self._lock:
            suppressed = self._suppressed
        if suppressed:
            text.append(f" ({suppressed} successful actions not listed)", style="dim")
        self._print(text)

    def _print(self, text: Text) -> None:
        self.console.print(text, highlight=False, soft_wrap=True)
