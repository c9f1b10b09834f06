"""Report widgets: a chronological :class:`Timeline` of rows in a report tab, and its formatters.

A timeline writes through ``flyte.report.get_tab``; with no active report (outside a ``report=True``
task) the rows go to a throwaway report, so a timeline never gets in the way of the work it logs.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from flyte_core.runtime import report

#: Longest text an expanded row shows; the rest is counted, not kept.
MAX_EXPANDED_CHARS = 20_000


def abbreviate(value: Any, limit: int = 300) -> str:
    """``value`` as escaped HTML; text longer than ``limit`` becomes a ``<details>`` showing the
    first ``limit`` characters and how many more there are, expandable to the whole (up to
    :data:`MAX_EXPANDED_CHARS`)."""
    text = "" if value is None else str(value)
    if len(text) <= limit:
        return html.escape(text)
    full = html.escape(text[:MAX_EXPANDED_CHARS])
    if len(text) > MAX_EXPANDED_CHARS:
        full += f"\n… (+{len(text) - MAX_EXPANDED_CHARS} more characters not shown)"
    return (f'<details class="flyte-abbrev"><summary>{html.escape(text[:limit])}… (+{len(text) - limit})</summary>'
            f'<pre style="white-space:pre-wrap;margin:4px 0 0">{full}</pre></details>')


def _parse(ts: Any) -> datetime:
    return datetime.fromisoformat(str(ts).replace("Z", "+00:00"))


def duration_ms(start_iso: Any, end_iso: Any) -> str:
    """The time from one ISO-8601 timestamp to another as ``"<n> ms"``; empty when either is
    missing or unreadable (a formatter for report rows, never an error)."""
    if not start_iso or not end_iso:
        return ""
    try:
        return f"{(_parse(end_iso) - _parse(start_iso)).total_seconds() * 1000:.0f} ms"
    except (ValueError, TypeError):
        return ""


class Timeline:
    """Rows appended, in order, to the report tab ``tab_name`` ("main" by default)."""

    def __init__(self, tab_name: str = report.MAIN_TAB) -> None:
        self.tab_name = tab_name

    def heading(self, text: Any) -> None:
        """A section heading."""
        self._add(f'<h3 style="margin:10px 0 4px">{html.escape(str(text))}</h3>')

    def row(self, *, icon: str = "•", label: Any = "", meta: str = "", detail: str = "", error: Any = None) -> None:
        """One row: ``icon``, a bold ``label``, dimmed ``meta`` (a duration, say), ``detail`` HTML
        (use :func:`abbreviate` for untrusted text) and an ``error`` shown in red."""
        parts = [f"{html.escape(icon)} <b>{html.escape(str(label))}</b>"]
        if meta:
            parts.append(f'<span style="opacity:.6">{html.escape(meta)}</span>')
        if detail:
            parts.append(f"— {detail}")
        if error:
            parts.append(f'<span style="color:#cf222e">⚠ {abbreviate(error, 200)}</span>')
        self._add('<div class="flyte-timeline-row" style="padding:3px 0;border-bottom:1px solid #d0d7de55">'
                  + " ".join(parts) + "</div>")

    def _add(self, fragment: str) -> None:
        report.get_tab(self.tab_name).log(fragment)


__all__ = ["MAX_EXPANDED_CHARS", "Timeline", "abbreviate", "duration_ms"]
