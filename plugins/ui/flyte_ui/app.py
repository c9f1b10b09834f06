"""The web app: :func:`create_app` builds a Starlette application over one flyte-core session.

Tests run it with uvicorn on a free port; embedders mount it in their own app
(``Mount("/flyte", create_app(session))``): every link and script URL is relative to the mount.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from flyte_core.extend import Session
from flyte_ui import api, model, views
from flyte_ui.data import UiData

_HERE = Path(__file__).parent

#: Host headers the UI answers by default: this machine's loopback names. Any other Host (a web page
#: that re-points its own domain at 127.0.0.1: DNS rebinding) gets 400, so it cannot read runs.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def _environment() -> Environment:
    """The template environment: autoescaping on for every template (they are all HTML)."""
    env = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals["PHASE_ICON"] = {p.value: icon for p, icon in model.PHASE_ICON.items()}
    return env


def create_app(
    session: Session, *, runs_limit: int = 100, allowed_hosts: Iterable[str] | None = LOOPBACK_HOSTS
) -> Starlette:
    """The UI over ``session``'s run store and data store.

    The app only reads; the session stays the caller's to close. ``runs_limit`` is how many runs
    the runs list shows. Requests whose ``Host`` header is not in ``allowed_hosts`` are refused
    (``None`` turns the check off, for an embedder whose own app already checks hosts).
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
    middleware = [] if allowed_hosts is None else [Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.ui = views.UiState(data=UiData(session), env=_environment(), runs_limit=runs_limit)
    return app
