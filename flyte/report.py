"""Flyte 2's ``flyte.report``: HTML reports of ``report=True`` tasks. Re-exports only; the logic
lives in :mod:`flyte_core.runtime.report` and :mod:`flyte_core.runtime.report_widgets`."""

from __future__ import annotations

from flyte_core.runtime.report import Report, Tab, current_report, flush, get_tab, log, replace
from flyte_core.runtime.report_widgets import Timeline, abbreviate, duration_ms

__all__ = ["Report", "Tab", "Timeline", "abbreviate", "current_report", "duration_ms", "flush", "get_tab", "log",
           "replace"]
