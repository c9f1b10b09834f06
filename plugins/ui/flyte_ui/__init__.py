"""flyte-ui: a local web UI for the runs in a flyte-core run store (``flyte ui``).

Importing the package is cheap (flyte-core imports ``flyte_ui.plugin`` in every session); the web
stack (Starlette, Jinja2, uvicorn) is only imported when the app is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte_ui.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from flyte_ui.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
