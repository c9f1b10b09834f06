"""Flyte 2's ``flyte.report``: HTML reports of ``report=True`` tasks. Re-exports only; the logic
lives in :mod:`flyte_core.report`."""

from __future__ import annotations

from flyte_core.report import Report, Tab, current_report, flush, get_tab, log, replace

__all__ = ["Report", "Tab", "current_report", "flush", "get_tab", "log", "replace"]
