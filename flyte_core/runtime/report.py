"""``flyte.report``: HTML reports a task writes while it runs, shown next to its action.

A task declared with ``@env.task(report=True)`` gets a :class:`Report` for each attempt of its
action. ``log``/``replace`` add HTML fragments to the "main" tab, :func:`get_tab` gives other
tabs, and :func:`flush` renders one standalone HTML page (CSS-only tabs, no external assets) and
writes it to ``<run_base_dir>/<action>/report.html`` in the data store (:func:`report_url`).

Outside a task, or in a task without ``report=True``, every call is a harmless no-op (Flyte 2
hands out a throwaway report there, and so do we), so library code may report unconditionally.

The runtime enables a report around a task body with :func:`action_report` (or the pair
:func:`begin_action` / :func:`finish_action`), which also flushes it when the body ends.
"""

from __future__ import annotations

import logging

from flyte_core.runtime import context
from flyte_core.runtime.reportpage import (
    MAIN_TAB,
    Report,
    Tab,
    action_report,
    begin_action,
    finish_action,
    registered_report,
    render_page,
    report_url,
    write_report,
)
from flyte_core.runtime.syncify import SyncAio

_logger = logging.getLogger("flyte")


def _active() -> tuple[context.TaskContext, Report] | None:
    """The running action's context and report, or None (outside a task, or report=False)."""
    ctx = context.current()
    if ctx is None:
        return None
    report = registered_report(ctx)
    return None if report is None else (ctx, report)


def current_report() -> Report:
    """The running action's report; outside a report=True task, a throwaway report."""
    active = _active()
    return active[1] if active is not None else Report("dummy")


def get_tab(name: str, /, create_if_missing: bool = True) -> Tab:
    """The tab ``name`` of the current report (created unless ``create_if_missing`` is False)."""
    return current_report().get_tab(name, create_if_missing=create_if_missing)


def _log(content: str, do_flush: bool = False) -> None:
    """Append an HTML fragment to the main tab; with ``do_flush``, write the report now."""
    if _active() is None:
        _logger.debug("flyte.report.log outside a report=True task: ignored")
        return
    get_tab(MAIN_TAB).log(content)
    if do_flush:
        _flush()


def _replace(content: str, do_flush: bool = False) -> None:
    """Replace the main tab's content; with ``do_flush``, write the report now."""
    if _active() is None:
        _logger.debug("flyte.report.replace outside a report=True task: ignored")
        return
    get_tab(MAIN_TAB).replace(content)
    if do_flush:
        _flush()


def _flush() -> None:
    """Render the current report and write it to the data store (the UI shows it from there)."""
    active = _active()
    if active is None:
        _logger.debug("flyte.report.flush outside a report=True task: ignored")
        return
    ctx, report = active
    write_report(report, report_url(ctx.run_base_dir, ctx.action.name))


# ``.aio`` forms run in a worker thread; asyncio.to_thread copies the context, so the task's
# context (and with it its report) is still found there.
#: Append HTML to the main tab (``await flyte.report.log.aio(...)`` in async tasks).
log = SyncAio(_log)
#: Replace the main tab's content (``await flyte.report.replace.aio(...)`` in async tasks).
replace = SyncAio(_replace)
#: Write the report now (``await flyte.report.flush.aio()`` in async tasks).
flush = SyncAio(_flush)
log.__name__, replace.__name__, flush.__name__ = "log", "replace", "flush"

__all__ = [
    "MAIN_TAB", "Report", "Tab", "action_report", "begin_action", "current_report", "finish_action", "flush",
    "get_tab", "log", "render_page", "replace", "report_url", "write_report",
]
