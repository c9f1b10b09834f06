"""Registers the live progress tree with flyte-core (entry point ``progress`` in group ``flyte``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte_core.extend import hookimpl

if TYPE_CHECKING:
    from flyte_progress.observer import LiveTreeObserver


@hookimpl
def flyte_progress_observer(console: Any) -> LiveTreeObserver:
    """Show the run as a live tree of actions on ``console`` (plain lines when it is not a terminal)."""
    from flyte_progress.observer import LiveTreeObserver

    observer = LiveTreeObserver(console)
    observer.start()  # now, in the CLI's thread, so task output is drawn above the tree
    return observer
