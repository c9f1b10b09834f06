"""The HTML pages: the runs list, a run's page, and a stored report.

Pages are rendered on the server (Jinja2, autoescaped). The parts that change while a run is live
(runs table, run header, action tree, timeline) are template fragments that the JSON API can
also return (``?html=1``), so the page script swaps them in place and there is one renderer, not
a second one in JavaScript.
"""

from __future__ import annotations

import time
from typing import Any

import attrs
from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from flyte_core.extend import Phase
from flyte_ui import model
from flyte_ui.data import UiData, valid_action_id

#: Pages load only this server's scripts and styles, and frame only its reports.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "frame-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
#: A report is the task author's HTML, possibly with scripts. ``sandbox`` gives it an opaque
#: origin even when opened directly, so it can never read the UI or its API.
REPORT_HEADERS = {
    "Content-Security-Policy": "sandbox allow-scripts allow-popups",
    "X-Content-Type-Options": "nosniff",
}


#: How many actions a run's page shows at once (``?limit=``, at most ``MAX_PAGE``): a run of a
#: million actions is read a page at a time, as ``flyte runs show`` does.
DEFAULT_PAGE = 1000
MAX_PAGE = 10000


@attrs.define
class UiState:
    """What every endpoint needs, kept on ``app.state.ui``."""

    data: UiData
    env: Environment
    #: How many runs the list shows.
    runs_limit: int = 100


def ui(request: Request) -> UiState:
    """The UI state of the app serving ``request``."""
    state: UiState = request.app.state.ui
    return state


def root(request: Request) -> str:
    """The prefix the app is mounted under ("" when it is the whole site)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def render(request: Request, template: str, **context: Any) -> str:
    """Render ``template`` with the common context (``root``)."""
    return ui(request).env.get_template(template).render(root=root(request), **context)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A whole HTML page."""
    return HTMLResponse(render(request, template, **context), status_code=status_code, headers=PAGE_HEADERS)


def not_found(request: Request, message: str) -> HTMLResponse:
    """A 404 page saying what was not found."""
    return page(request, "not_found.html", status_code=404, message=message)


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter clamped to [low, high]; ValueError if it is not a number."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return min(max(int(raw), low), high)
    except ValueError:
        raise ValueError(f"'{name}' must be a whole number, got {raw!r}") from None


def page_params(request: Request) -> tuple[int, int]:
    """The ``offset`` and ``limit`` of the page of actions asked for (ValueError if not numbers)."""
    return (int_param(request, "offset", 0, 0, 2**62),
            int_param(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE))


def parse_phase(value: str | None) -> Phase | None:
    """The phase named in a query parameter; None for empty; ValueError for an unknown name."""
    if not value:
        return None
    try:
        return Phase(value)
    except ValueError:
        raise ValueError(f"'phase' must be one of {', '.join(p.value for p in Phase)}; got {value!r}") from None


# --- fragments shared with the JSON API ----------------------------------------------------------------

def runs_fragment(request: Request, runs: list[dict[str, Any]]) -> str:
    """The runs table body."""
    return render(request, "_runs_rows.html", runs=runs)


def run_fragments(request: Request, run: dict[str, Any], actions: list[dict[str, Any]],
                  now: float, pager: dict[str, Any]) -> dict[str, str]:
    """The live parts of a run's page: header, action tree (with its pager) and timeline."""
    rows = model.tree_rows(actions)
    return {
        "header": render(request, "_run_header.html", run=run),
        "tree": render(request, "_tree.html", rows=rows, pager=pager),
        "timeline": render(request, "_timeline.html", timeline=model.timeline(run, rows, now)),
    }


RunState = tuple[dict[str, Any], list[dict[str, Any]], float, dict[str, Any]]


def run_state(data: UiData, name: str, offset: int = 0, limit: int = DEFAULT_PAGE) -> RunState | None:
    """A run, a page of its actions as view dicts (one clock for both) and the pager, or None if
    there is no such run."""
    rec = data.run(name)
    if rec is None:
        return None
    now = time.time()
    # Actions are read after the run, so a run seen terminal never shows a stale live action.
    reports = data.report_actions(name)
    actions = [model.action_view(a, now, reports) for a in data.actions(name, offset=offset, limit=limit)]
    return model.run_view(rec, now), actions, now, model.pager(offset, limit, data.count_actions(name))


# --- pages ---------------------------------------------------------------------------------------------------

def runs_page(request: Request) -> HTMLResponse:
    """``/``: runs, newest first, filtered by ``?phase=`` and ``?task=``; refreshes itself."""
    state = ui(request)
    phase_arg, task = request.query_params.get("phase") or "", request.query_params.get("task") or ""
    try:
        phase = parse_phase(phase_arg)
    except ValueError:
        phase, phase_arg = None, ""
    now = time.time()
    runs = [model.run_view(r, now) for r in state.data.runs(phase=phase, task=task or None, limit=state.runs_limit)]
    return page(request, "runs.html", runs=runs, rows=runs_fragment(request, runs), phases=[p.value for p in Phase],
                tasks=state.data.tasks(), phase=phase_arg, task=task)


def run_page(request: Request) -> HTMLResponse:
    """``/runs/{name}``: header, action tree, timeline and a details panel for the clicked action."""
    name = request.path_params["name"]
    try:
        offset, limit = page_params(request)
    except ValueError:
        offset, limit = 0, DEFAULT_PAGE  # a hand-edited bad number shows the first page
    found = run_state(ui(request).data, name, offset, limit)
    if found is None:
        return not_found(request, f"No run named '{name}'.")
    run, actions, now, pager = found
    return page(request, "run.html", run=run, parts=run_fragments(request, run, actions, now, pager),
                initial={"run": run, "actions": actions, "page": pager})


def report_page(request: Request) -> Response:
    """``/runs/{name}/actions/{action}/report``: the action's stored report, sandboxed, or 404."""
    name, action = request.path_params["name"], request.path_params["action"]
    data = ui(request).data
    if not valid_action_id(action) or data.run(name) is None:
        return not_found(request, f"No report for action '{action}' of run '{name}'.")
    body = data.report(name, action)
    if body is None:
        return not_found(request, f"Action '{action}' of run '{name}' has no report.")
    return Response(body, media_type="text/html; charset=utf-8", headers=REPORT_HEADERS)
