"""flyte-apps: Flyte 2 apps (``flyte.app``) served as local processes (``flyte.serve``, ``flyte serve``).

Names load on first use, so loading the plugin (every session and worker does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "AppContext": "context", "ctx": "context",
    "AppEnvironment": "environment", "ConnectorEnvironment": "environment", "DeployedAppEnvironment": "environment",
    "AppEndpoint": "parameters", "ArtifactValue": "parameters", "Parameter": "parameters", "RunOutput": "parameters",
    "get_parameter": "parameters",
    "AppHandle": "serve", "LocalApp": "serve", "ServeContext": "serve", "serve": "serve", "with_servecontext": "serve",
    "Domain": "types", "Link": "types", "Port": "types", "Scaling": "types", "Subdomain": "types", "Timeouts": "types",
}
__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'flyte_apps' has no attribute '{name}'")
    return getattr(importlib.import_module(f"flyte_apps.{_NAMES[name]}"), name)
