"""A task's HTML report: its tabs, the standalone page they render to, where it is written, and
which action has one (:func:`action_report` wraps a task body). The functions task code calls are
in :mod:`flyte_core.runtime.report`.
"""

from __future__ import annotations

import html
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import attrs
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem

from flyte_core.runtime.loans import writable

if TYPE_CHECKING:
    from flyte_core.runtime.context import TaskContext

_logger = logging.getLogger("flyte")

#: The tab that ``log`` and ``replace`` write to.
MAIN_TAB = "main"
#: The report's file name inside the action's folder of the run.
REPORT_FILE = "report.html"


@attrs.define
class Tab:
    """One tab of a report: a list of HTML fragments shown one after the other."""

    name: str
    content: list[str] = attrs.field(factory=list, init=False)

    def log(self, content: str) -> None:
        """Append an HTML fragment (not a whole document: it is placed inside a ``div``)."""
        self.content.append(content)

    def replace(self, content: str) -> None:
        """Replace everything in the tab with one HTML fragment."""
        self.content = [content]

    def get_html(self) -> str:
        """The tab's fragments joined into one piece of HTML."""
        return "\n".join(self.content)


@attrs.define
class Report:
    """A report: named tabs of HTML; the "main" tab always exists.

    Tab contents are the task author's HTML and are rendered as-is (escaping them would show
    markup as text); tab names and the title are escaped.
    """

    name: str
    tabs: dict[str, Tab] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        self.tabs.setdefault(MAIN_TAB, Tab(MAIN_TAB))

    def has_content(self) -> bool:
        """True once any tab holds something."""
        return any(tab.content for tab in self.tabs.values())

    def get_tab(self, name: str, create_if_missing: bool = True) -> Tab:
        """The tab called ``name``; created if missing, or a ``ValueError`` when
        ``create_if_missing`` is False."""
        tab = self.tabs.get(name)
        if tab is None:
            if not create_if_missing:
                raise ValueError(f"The report has no tab named '{name}'; tabs: {', '.join(self.tabs)}.")
            tab = self.tabs[name] = Tab(name)
        return tab

    def get_final_report(self) -> str:
        """The whole report as one standalone HTML page."""
        return render_page(self)


# --- rendering ------------------------------------------------------------------------------------

# Pure-CSS tabs: one radio button per tab; the checked one's panel is shown. No script, so the
# page works in a sandboxed iframe and when opened from the data store as a file.
_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; }
header { padding: 10px 16px; border-bottom: 1px solid #d0d7de; font-weight: 600; }
.tabs > input { position: absolute; opacity: 0; pointer-events: none; }
.tabs > label { display: inline-block; padding: 8px 14px; cursor: pointer; color: #57606a;
  border-bottom: 2px solid transparent; }
.tabs > label:hover { color: #1f2328; }
.panel { display: none; padding: 12px 16px; border-top: 1px solid #d0d7de; }
.empty { color: #57606a; padding: 12px 16px; }
"""


def render_page(report: Report) -> str:
    """Render ``report`` as a complete HTML page (tabs as CSS tabs, no external assets)."""
    # An empty "main" tab is left out when other tabs exist: reports built only from named tabs
    # should not open on a blank panel.
    tabs = [t for t in report.tabs.values() if t.content or (t.name != MAIN_TAB or len(report.tabs) == 1)]
    rules, heads, panels = [], [], []
    for i, tab in enumerate(tabs):
        checked = " checked" if i == 0 else ""
        heads.append(f'<input type="radio" name="tab" id="t{i}"{checked}>'
                     f'<label for="t{i}">{html.escape(tab.name)}</label>')
        panels.append(f'<div class="panel" id="p{i}">{tab.get_html()}</div>')
        rules.append(f"#t{i}:checked ~ #p{i} {{ display: block; }} "
                     f"#t{i}:checked + label {{ color: #1f2328; border-bottom-color: #fd8c73; }}")
    body = "".join(heads) + "".join(panels)
    if not report.has_content():
        body += '<div class="empty">This report is empty.</div>'
    title = html.escape(report.name)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>"
        f"<style>{_CSS}{chr(10).join(rules)}</style></head>"
        f"<body><header>{title}</header><div class=\"tabs\">{body}</div></body></html>\n"
    )


# --- where reports live -----------------------------------------------------------------------------

def report_url(run_base_dir: str, action: str) -> str:
    """Where the report of ``action`` is stored: ``<run_base_dir>/<action>/report.html``."""
    return f"{run_base_dir.rstrip('/')}/{action}/{REPORT_FILE}"


def write_report(report: Report, url: str) -> None:
    """Render ``report`` and write it to ``url`` (any fsspec URL or local path)."""
    data = report.get_final_report().encode("utf-8")
    fs, path = url_to_fs(writable(url))
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    if isinstance(fs, LocalFileSystem):
        # A UI may read the file while the task flushes again: write beside it and rename, so
        # readers see the old page or the new one, never half of one. (Object stores already
        # replace an object atomically.)
        tmp = f"{path}.{uuid.uuid4().hex}.tmp"
        fs.pipe_file(tmp, data)
        os.replace(tmp, path)
    else:
        fs.pipe_file(path, data)


# --- the report of the running action ----------------------------------------------------------------

# Reports of the actions running in this process, keyed by (run_base_dir, action): the base dir
# names the data store and the run, so two sessions never share an entry. A dict rather than a
# context variable because task code may hop threads or evolve its TaskContext (groups, custom
# context) and must still find the same report.
_reports: dict[tuple[str, str], Report] = {}
_reports_lock = threading.Lock()


def _key(ctx: TaskContext) -> tuple[str, str]:
    return (ctx.run_base_dir, ctx.action.name)


def begin_action(ctx: TaskContext, enabled: bool) -> Report | None:
    """Give the action of ``ctx`` a fresh report when its task has ``report=True`` (called by the
    runtime before the task body; each attempt starts empty). Returns the report, or None."""
    if not enabled:
        return None
    report = Report(ctx.task_name)
    with _reports_lock:
        _reports[_key(ctx)] = report
    return report


def finish_action(ctx: TaskContext) -> None:
    """Write the report of the action of ``ctx`` (if it has one) and forget it; called by the
    runtime after the task body, however it ended. A failed write is logged, not raised: the
    task's own outcome matters more than its report."""
    with _reports_lock:
        report = _reports.pop(_key(ctx), None)
    if report is None:
        return
    url = report_url(ctx.run_base_dir, ctx.action.name)
    try:
        write_report(report, url)
    except Exception as e:
        _logger.warning("Could not write the report of action %s of run %s to %s: %s",
                    ctx.action.name, ctx.run_name, url, e)


@contextmanager
def action_report(ctx: TaskContext, enabled: bool) -> Iterator[Report | None]:
    """:func:`begin_action` on entry and :func:`finish_action` on exit, for wrapping a task body."""
    report = begin_action(ctx, enabled)
    try:
        yield report
    finally:
        if report is not None:
            finish_action(ctx)


def registered_report(ctx: TaskContext) -> Report | None:
    """The report of the action of ``ctx``, or None when its task does not have ``report=True``."""
    with _reports_lock:
        return _reports.get(_key(ctx))


def report_for(ctx: TaskContext) -> Report:
    """The report of the action of ``ctx`` (``flyte.ctx().report``); a throwaway one when its task
    does not have ``report=True``."""
    report = registered_report(ctx)
    return report if report is not None else Report(ctx.task_name)
