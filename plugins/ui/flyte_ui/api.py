"""The JSON API the pages poll (and scripts may use): runs, one run with its actions, and logs.

``?html=1`` adds the page fragments rendered from the same data (see :mod:`flyte_ui.views`).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from flyte_ui import model, views

_NO_STORE = {"Cache-Control": "no-store"}  # live data: a cached answer would freeze the page


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=_NO_STORE)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


def list_runs(request: Request) -> JSONResponse:
    """``/api/runs?phase=&task=&limit=&html=``: runs, newest first."""
    state = views.ui(request)
    try:
        phase = views.parse_phase(request.query_params.get("phase"))
        limit = views.int_param(request, "limit", state.runs_limit, 1, 1000)
    except ValueError as e:
        return _error(400, f"Bad query parameter: {e}.")
    now = time.time()
    runs = [model.run_view(r, now) for r in
            state.data.runs(phase=phase, task=request.query_params.get("task") or None, limit=limit)]
    body: dict[str, Any] = {"runs": runs}
    if _flag(request, "html"):
        body["html"] = {"rows": views.runs_fragment(request, runs)}
    return JSONResponse(body, headers=_NO_STORE)


def get_run(request: Request) -> JSONResponse:
    """``/api/runs/{name}?offset=&limit=&html=``: the run and a page of its actions (creation
    order; ``limit`` defaults to 1,000), with ``page``: its offset, limit and the run's total."""
    name = request.path_params["name"]
    try:
        offset, limit = views.page_params(request)
    except ValueError as e:
        return _error(400, f"Bad query parameter: {e}.")
    found = views.run_state(views.ui(request).data, name, offset, limit)
    if found is None:
        return _error(404, f"No run named '{name}'.")
    run, actions, now, pager = found
    body: dict[str, Any] = {"run": run, "actions": actions, "page": pager}
    if _flag(request, "html"):
        body["html"] = views.run_fragments(request, run, actions, now, pager)
    return JSONResponse(body, headers=_NO_STORE)


def get_logs(request: Request) -> JSONResponse:
    """``/api/runs/{name}/logs?action=&after=&exact=``: log lines after sequence number ``after``,
    of the run, of ``action`` and its descendants, or with ``exact=1`` of ``action`` alone.
    ``last`` is the ``after`` to pass next time."""
    name = request.path_params["name"]
    data = views.ui(request).data
    if data.run(name) is None:
        return _error(404, f"No run named '{name}'.")
    try:
        after = views.int_param(request, "after", 0, 0, 2**62)
    except ValueError as e:
        return _error(400, f"Bad query parameter: {e}.")
    action = request.query_params.get("action") or None
    lines = data.logs(name, action, after=after)
    # ``last`` advances past lines that ``exact`` leaves out too, so they are not read again.
    last = max([after, *(seq for seq, _ in lines)])
    if action is not None and _flag(request, "exact"):
        lines = [(seq, ln) for seq, ln in lines if ln.action == action]
    return JSONResponse({"lines": [model.log_view(seq, ln) for seq, ln in lines], "last": last}, headers=_NO_STORE)
