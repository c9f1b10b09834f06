"""App parameters (``flyte.app.Parameter``) and the delayed values they may hold, resolved locally:
a :class:`RunOutput` from the local run store, an :class:`AppEndpoint` to the local URL of an app."""

from __future__ import annotations

import json
import os
import re
from typing import Any, Literal

import attrs

from flyte_core.extend import FlyteUsageError

ParameterType = Literal["string", "file", "directory", "app_endpoint"]
#: Environment variable (named as in Flyte 2) holding the path of the JSON file of materialised parameters.
RUNTIME_PARAMETERS_FILE = "flyte-parameters.json"
_ENV_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")


@attrs.frozen(kw_only=True)
class RunOutput:
    """An output of a run: of run ``run_name``, or of the latest succeeded run of ``task_name``.
    ``getter`` indexes into the outputs (default: the first). Read from the local run store."""

    type: ParameterType
    run_name: str | None = None
    task_name: str | None = None
    task_version: str | None = None
    task_auto_version: Literal["latest", "current"] | None = None
    getter: tuple[Any, ...] = (0,)

    def __attrs_post_init__(self) -> None:
        if (self.run_name is None) == (self.task_name is None):
            raise ValueError("Exactly one of run_name or task_name must be provided")
        if self.type == "app_endpoint":
            raise ValueError("AppEndpoint is not supported as a run output")

    def materialize(self) -> Any:
        """The output value, from the default session's run store."""
        from flyte_core.extend import Phase, Run, current_session

        session = current_session()
        name = self.run_name
        if name is None:
            runs = [r for r in session.list_runs() if r.task == self.task_name and r.phase is Phase.SUCCEEDED]
            if not runs:
                raise FlyteUsageError(f"RunOutput: no succeeded run of task '{self.task_name}' in the run store; "
                                      "run it first (flyte run ...).")
            name = max(runs, key=lambda r: r.created_at).name
        elif session.get_run(name) is None:
            raise FlyteUsageError(f"RunOutput: no run named '{name}' in the run store (see flyte runs list).")
        value: Any = Run(session, name).outputs()
        for key in self.getter:
            value = value[key]
        return value


@attrs.frozen(kw_only=True)
class ArtifactValue:
    """A published artifact (needs an artifact service: accepted, refused when served locally)."""

    type: ParameterType | None = None
    name: str
    version: str | None = None
    project: str | None = None
    domain: str | None = None

    def materialize(self) -> Any:
        """Always refused here: there is no artifact service without a Flyte control plane."""
        raise FlyteUsageError(f"ArtifactValue('{self.name}') needs Flyte's artifact service, which flyte-core does "
                              "not have; pass the file or folder itself (flyte.io.File/Dir) as the value.")


@attrs.frozen(kw_only=True)
class AppEndpoint:
    """The endpoint of another app, by name: locally, the URL of that app served by this process."""

    type: Literal["string"] = "string"
    app_name: str
    public: bool = False

    def materialize(self) -> str:
        """The local URL of app ``app_name`` (it must be served by this process, or declared in
        ``depends_on`` of the app being served)."""
        from flyte_apps.serve import local_endpoint

        return local_endpoint(self.app_name)


_DELAYED = (RunOutput, ArtifactValue, AppEndpoint)


@attrs.define
class Parameter:
    """A named input of an app: a string, a file or folder, or a delayed value; delivered as the
    environment variable ``env_var`` (if set), as an argument of the server function of the same name,
    and through :func:`get_parameter`."""

    name: str
    value: Any = None
    type: ParameterType | None = None
    env_var: str | None = None
    download: bool = True
    mount: str | None = None
    ignore_patterns: list[str] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        if self.env_var is not None and not _ENV_NAME.match(self.env_var):
            raise ValueError(f"env_var ({self.env_var}) is not a valid environment name for shells")
        if self.value is not None and not (isinstance(self.value, (str, *_DELAYED)) or _is_file_or_dir(self.value)):
            raise TypeError("Expected value to be of type str, file, dir, RunOutput, ArtifactValue or AppEndpoint, "
                            f"got {type(self.value)}")


def _is_file_or_dir(value: Any) -> bool:
    return type(value).__name__ in ("File", "Dir") and hasattr(value, "path")


def materialize(app_name: str, param: Parameter, override: Any = None) -> str:
    """The string an app sees for ``param`` (files and folders as their path)."""
    value = override if override is not None else param.value
    if value is None:
        raise FlyteUsageError(f"App '{app_name}': parameter '{param.name}' has no value; give one in "
                              "Parameter(value=...) or with_servecontext(parameter_values=...).")
    if isinstance(value, _DELAYED):
        value = value.materialize()
    if _is_file_or_dir(value):
        return str(value.path)
    return value if isinstance(value, str) else str(value)


def get_parameter(name: str) -> str:
    """The value of app parameter ``name``, inside a served app."""
    path = os.environ.get(RUNTIME_PARAMETERS_FILE)
    if path is None:
        raise ValueError("Parameters are not mounted: get_parameter works inside an app served with flyte.serve.")
    with open(path) as f:
        values: dict[str, str] = json.load(f)
    return values[name]
