"""Run-store records turned into plain, JSON-ready dicts for the pages and the JSON API.

Both use the same dicts, so what the API returns is exactly what the pages show. Nothing here
escapes HTML: the templates do (autoescape) and the page script only writes ``textContent``.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from typing import Any

from flyte_core.extend import ActionRecord, ErrorInfo, LogLine, Phase, RunRecord

PHASE_ICON = {
    Phase.QUEUED: "○", Phase.WAITING_FOR_RESOURCES: "◌", Phase.INITIALIZING: "◌", Phase.RUNNING: "●",
    Phase.SUCCEEDED: "✓", Phase.FAILED: "✗", Phase.ABORTED: "⊘", Phase.TIMED_OUT: "⏱", Phase.INTERRUPTED: "!",
}

#: Narrowest timeline bar, in percent of the run: instant actions (cache hits) stay visible.
MIN_BAR_PCT = 0.4


def fmt_duration(seconds: float | None) -> str:
    """``850ms``, ``1.25s``, ``2m 03s``, ``1h 02m``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def fmt_time(ts: float | None) -> str:
    """A timestamp in the server's local time, or ``-``."""
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _duration(started: float | None, ended: float | None, now: float) -> float | None:
    return None if started is None else max((ended or now) - started, 0.0)


def error_view(err: ErrorInfo | None) -> dict[str, Any] | None:
    """An error as a dict (code, kind, message, traceback, failing action)."""
    if err is None:
        return None
    return {"code": err.code, "kind": err.kind, "message": err.message, "traceback": err.traceback,
            "action": err.action}


def readable(payload: Any) -> str:
    """A literal's ``d`` payload for people: strings as they are, other values as indented JSON."""
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, indent=2, ensure_ascii=False, default=str)


def literal_items(literals: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Named literals (``{"x": {"t": "int", "v": 1, "d": 3}}``) as rows: name, type, the payload
    shown readably, and the whole literal as pretty JSON."""
    rows = []
    for name, lit in (literals or {}).items():
        typed = isinstance(lit, dict) and "d" in lit
        rows.append({
            "name": name,
            "type": str(lit.get("t", "")) if isinstance(lit, dict) else "",
            "value": readable(lit["d"] if typed else lit),
            "literal": json.dumps(lit, indent=2, ensure_ascii=False, default=str),
        })
    return rows


def run_view(rec: RunRecord, now: float | None = None) -> dict[str, Any]:
    """A run as a dict."""
    now = time.time() if now is None else now
    duration = _duration(rec.started_at, rec.ended_at, now)
    return {
        "name": rec.name, "task": rec.task, "phase": rec.phase.value, "icon": PHASE_ICON.get(rec.phase, ""),
        "terminal": rec.phase.is_terminal, "backend": rec.backend, "created_at": rec.created_at,
        "started_at": rec.started_at, "ended_at": rec.ended_at,
        "start_text": fmt_time(rec.started_at or rec.created_at),
        "duration": duration, "duration_text": fmt_duration(duration), "error": error_view(rec.error),
        "labels": dict(rec.labels), "host": rec.host, "pid": rec.pid,
    }


def action_view(a: ActionRecord, now: float | None = None, reports: set[str] | frozenset[str] = frozenset()
                ) -> dict[str, Any]:
    """An action as a dict, with its inputs and outputs as readable rows."""
    now = time.time() if now is None else now
    duration = _duration(a.started_at, a.ended_at, now)
    return {
        "action": a.action, "parent": a.parent, "task": a.task, "short_task": a.task.rsplit(".", 1)[-1],
        "phase": a.phase.value, "icon": PHASE_ICON.get(a.phase, ""), "terminal": a.phase.is_terminal,
        "attempts": a.attempts, "group": a.group, "cache_hit": a.cache_hit, "created_at": a.created_at,
        "started_at": a.started_at, "ended_at": a.ended_at, "duration": duration,
        "duration_text": fmt_duration(duration), "error": error_view(a.error),
        "inputs": literal_items(a.inputs), "outputs": literal_items(a.outputs), "has_report": a.action in reports,
    }


def log_view(seq: int, line: LogLine) -> dict[str, Any]:
    """A log line as a dict (``seq`` is what ``after=`` takes to continue from it)."""
    return {"seq": seq, "action": line.action, "attempt": line.attempt, "at": line.at, "stream": line.stream,
            "line": line.line}


def pager(offset: int, limit: int, total: int) -> dict[str, Any]:
    """Where a page of ``limit`` actions from ``offset`` sits among the run's ``total``: the
    first and last shown (1-based, ``last`` < ``first`` when the page is empty) and the offsets
    of the previous and next pages (None where there is none)."""
    last = min(offset + limit, total)
    return {
        "offset": offset, "limit": limit, "total": total, "first": offset + 1, "last": last,
        "prev": max(offset - limit, 0) if offset > 0 else None, "next": last if last < total else None,
    }


def tree_rows(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The action tree in display order: each action after its parent, children in creation
    order, and the children of one group gathered under a group row at the first member's place.

    Rows are ``{"kind": "action", "depth", "action"}`` or ``{"kind": "group", "depth", "name",
    "count", "phases"}``.
    """
    ids = {a["action"] for a in actions}
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for a in actions:
        # An action whose parent is not recorded (yet) is shown at the top rather than lost.
        children[a["parent"] if a["parent"] in ids else None].append(a)
    rows: list[dict[str, Any]] = []

    def visit(parent: str | None, depth: int) -> None:
        kids = children.get(parent, [])
        done_groups: set[str] = set()
        for kid in kids:
            group = kid["group"]
            if group is None:
                rows.append({"kind": "action", "depth": depth, "action": kid})
                visit(kid["action"], depth + 1)
            elif group not in done_groups:
                done_groups.add(group)
                members = [k for k in kids if k["group"] == group]
                phases = Counter(m["phase"] for m in members)
                rows.append({"kind": "group", "depth": depth, "name": group, "count": len(members),
                             "phases": sorted(phases.items())})
                for m in members:
                    rows.append({"kind": "action", "depth": depth + 1, "action": m})
                    visit(m["action"], depth + 2)

    visit(None, 0)
    return rows


def timeline(run: dict[str, Any], rows: list[dict[str, Any]], now: float | None = None) -> dict[str, Any]:
    """One bar per action (in tree order), placed by its start and end relative to the run:
    ``left`` and ``width`` in percent, plus a faint ``wait`` segment from creation to start."""
    now = time.time() if now is None else now
    actions = [r["action"] for r in rows if r["kind"] == "action"]
    t0: float = min([run["started_at"] or run["created_at"], *(a["created_at"] for a in actions)])
    ends = [a["ended_at"] for a in actions if a["ended_at"] is not None]
    t1: float = max([run["ended_at"] or (t0 if run["terminal"] else now), *ends, t0])
    total = max(t1 - t0, 1e-3)

    def pct(ts: float) -> float:
        return min(max((ts - t0) / total * 100, 0.0), 100.0)

    bars = []
    for r in rows:
        if r["kind"] != "action":
            continue
        a = r["action"]
        start = a["started_at"] if a["started_at"] is not None else a["created_at"]
        end = a["ended_at"] if a["ended_at"] is not None else (start if a["terminal"] or run["terminal"] else now)
        left = pct(start)
        width = min(max(pct(end) - left, MIN_BAR_PCT), 100.0 - left) if left < 100 else MIN_BAR_PCT
        left = min(left, 100.0 - width)
        wait_left = pct(a["created_at"])
        bars.append({
            "action": a, "depth": r["depth"], "left": round(left, 3), "width": round(width, 3),
            "wait_left": round(wait_left, 3), "wait_width": round(max(left - wait_left, 0.0), 3),
            "started": a["started_at"] is not None,
        })
    ticks = [{"pct": p, "label": fmt_duration(total * p / 100)} for p in (0, 25, 50, 75, 100)]
    return {"bars": bars, "ticks": ticks, "total": total, "total_text": fmt_duration(total)}
