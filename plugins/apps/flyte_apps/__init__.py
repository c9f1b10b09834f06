"""flyte-apps: Flyte 2 apps (``flyte.app``) served as local processes (``flyte.serve``, ``flyte serve``)."""

from flyte_apps.context import AppContext, ctx
from flyte_apps.environment import AppEnvironment, ConnectorEnvironment, DeployedAppEnvironment
from flyte_apps.parameters import AppEndpoint, ArtifactValue, Parameter, RunOutput, get_parameter
from flyte_apps.serve import AppHandle, LocalApp, ServeContext, serve, with_servecontext
from flyte_apps.types import Domain, Link, Port, Scaling, Subdomain, Timeouts

__all__ = [
    "AppContext", "AppEndpoint", "AppEnvironment", "AppHandle", "ArtifactValue", "ConnectorEnvironment",
    "DeployedAppEnvironment", "Domain", "Link", "LocalApp", "Parameter", "Port", "RunOutput", "Scaling",
    "ServeContext", "Subdomain", "Timeouts", "ctx", "get_parameter", "serve", "with_servecontext",
]
