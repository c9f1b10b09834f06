"""The run observer behind ``flyte run``'s progress: a live tree of actions on terminals, plain
lines elsewhere."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from rich.console import Console
from rich.errors import LiveError
from rich.live import Live

from flyte_core.extend import ActionEvent, RunEvent
from flyte_progress.display import TreeView
from flyte_progress.lines import LinePrinter
from flyte_progress.tree import DEFAULT_MAX_CHILDREN, ProgressTree

#: How often the live display redraws itself.
REFRESH_PER_SECOND = 8.0


class LiveTreeObserver:
    """Shows one run's action tree on ``console`` (implements ``flyte_core.run.observers.RunObserver``).

    Events only update :attr:`tree` (under its lock); on a terminal, a ``rich.live.Live`` started by
    the first event redraws the tree from its own thread ``REFRESH_PER_SECOND`` times a second, and
    :meth:`close` stops it, leaving the final tree on screen. On anything else (``console.is_terminal``
    False, or ``live=False``), finished actions are printed one line each and a summary at close.
    Log lines are ignored: what tasks print already reaches the terminal.
    """

    #: The tree shows states, not transitions: the recorder tells it each action's latest state
    #: once per batch it writes, instead of every phase change (see ``RunObserver``).
    latest_only = True

    def __init__(
        self,
        console: Console,
        *,
        live: bool | None = None,
        max_children: int = DEFAULT_MAX_CHILDREN,
        refresh_per_second: float = REFRESH_PER_SECOND,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.console = console
        #: The run's state, fed by the events.
        self.tree = ProgressTree(keep=max_children)
        #: What the live display draws.
        self.view = TreeView(self.tree, max_children=max_children, clock=clock)
        if live is None:
            live = console.is_terminal and not console.is_dumb_terminal
        self._max_children = max_children
        self._clock = clock
        self._refresh_per_second = refresh_per_second
        self._lines: LinePrinter | None = None if live else self._line_printer()
        self._live: Live | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def is_live(self) -> bool:
        """True while the live display is running."""
        return self._live is not None

    def start(self) -> None:
        """Start the live display now, taking over ``sys.stdout``/``sys.stderr`` so what tasks print
        appears above the tree instead of tearing it (call from the thread that starts the run)."""
        self._start_live(redirect=True)

    def on_run(self, event: RunEvent) -> None:
        """The run started or ended."""
        self.tree.apply_run(event)
        self._start_live()

    def on_action(self, event: ActionEvent) -> None:
        """An action changed phase."""
        previous = self.tree.apply(event)
        lines = self._lines
        if lines is not None:
            lines.action_changed(event, previous)
        else:
            self._start_live()

    def on_log(self, action: str, stream: str, text: str) -> None:
        """Image builds show their latest line under the tree; tasks' own output is not shown
        here (it already reaches the terminal)."""
        if stream == "build":
            done = text.startswith("image ready")
            self.view.status = None if done else f"building image: {text.strip()}"[:200]
        elif self.view.status is not None and stream in ("stdout", "stderr"):
            self.view.status = None  # a task is running: the build is over

    def close(self) -> None:
        """Stop the live display (its last frame stays) or print the summary line; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            live, self._live = self._live, None
            lines = self._lines
        self.view.animate = False
        if live is not None:
            live.stop()
        elif lines is not None:
            lines.summary()

    def _start_live(self, redirect: bool = False) -> None:
        if self._live is not None or self._lines is not None or self._closed:
            return
        with self._lock:
            if self._live is not None or self._lines is not None or self._closed:
                return
            live = Live(
                self.view,
                console=self.console,
                transient=False,
                refresh_per_second=self._refresh_per_second,
                redirect_stdout=redirect,
                redirect_stderr=redirect,
            )
            try:
                live.start(refresh=True)
            except LiveError:  # another live display owns the console (rich < 14): print lines instead
                self._lines = self._line_printer()
                return
            self._live = live

    def _line_printer(self) -> LinePrinter:
        return LinePrinter(self.console, self.tree, max_children=self._max_children, clock=self._clock)
