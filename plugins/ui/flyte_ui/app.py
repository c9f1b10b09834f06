"""The web app: :func:`create_app` builds a Starlette application over one flyte-core session.

Tests run it with uvicorn on a free port; embedders mount it in their own app
(``Mount("/flyte", create_app(session))``): every link and script URL is relative to the mount.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from flyte_core.session import Session
from flyte_ui import api, model, views
from flyte_ui.data import UiData

_HERE = Path(__file__).parent


def _environment() -> Environment:
    """The template environment: autoescaping on for every template (they are all HTML)."""
    env = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["PHASE_ICON"] = {p.value: icon for p, icon in model.PHASE_ICON.items()}
    return env


def create_app(session: Session, *, runs_limit: int = 100) -> Starlette:
    """The UI over ``session``'s run store and data store.

    The app only reads; the session stays the caller's to close. ``runs_limit`` is how many runs
    the runs list shows.
    """
    routes = [
        Route("/", views.runs_page, name="runs"),
        Route("/runs/{name}", views.run_page, name="run"),
        Route("/runs/{name}/actions/{action}/report", views.report_page, name="report"),
        Route("/api/runs", api.list_runs, name="api_runs"),
        Route("/api/runs/{name}", api.get_run, name="api_run"),
        Route("/api/runs/{name}/logs", api.get_logs, name="api_logs"),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.ui = views.UiState(data=UiData(session), env=_environment(), runs_limit=runs_limit)
    return app
