"""``flyte.app``: AppEnvironment and friends, as in Flyte 2.

Re-exports only: the names come from the ``flyte-apps`` plugin (apps served as local processes),
imported on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AppEndpoint", "AppEnvironment", "ArtifactValue", "ConnectorEnvironment", "DeployedAppEnvironment", "Domain",
    "Link", "Parameter", "Port", "RunOutput", "Scaling", "Subdomain", "Timeouts", "ctx", "get_parameter",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'flyte.app' has no attribute '{name}'")
    try:
        import flyte_apps
    except ImportError as e:
        raise ImportError(f"flyte.app.{name} comes from the 'flyte-apps' package; install it "
                          "(pip install flyte-apps).") from e
    return getattr(flyte_apps, name)
