"""Flyte 2's control-plane entry points, each with the meaning it has without a control plane.

- ``init_from_api_key``, ``init_in_cluster``, ``init_passthrough``: set up the default session as
  ``flyte.init`` does; the endpoint and credentials they take have nothing to connect to.
- ``is_control_plane_available``: always False here.
- ``current_project`` / ``current_domain``: the running action's (inside a task), else the
  ``project``/``domain`` given to an init function, else Flyte 2's defaults.
- ``rerun``: start a new run of a recorded run's task with its recorded inputs.
- ``deploy``: raises :class:`~flyte_core.errors.platform.DeploymentError` (nothing to deploy to).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Protocol, runtime_checkable

from flyte_core.errors.core import TaskInputError
from flyte_core.errors.platform import DeploymentError
from flyte_core.runtime import context

#: Flyte-core's own log records (Flyte 2's ``flyte.system_logger``); task code logs to ``flyte.logger``.
system_logger = logging.getLogger("flyte")

_DEFAULT_PROJECT, _DEFAULT_DOMAIN = "default", "development"
_scope: dict[str, str] = {}


@runtime_checkable
class Link(Protocol):
    """A link shown beside an action (``@env.task(links=[...])``): a ``name``, an ``icon_uri`` and
    ``get_link(...)`` building the URL from the action's identity."""

    name: str
    icon_uri: str | None

    def get_link(self, run_name: str, project: str, domain: str, context: dict[str, str], parent_action_name: str,
                 action_name: str, pod_name: str, **kwargs: Any) -> str:
        """The URL for one action."""
        ...


def _remember_scope(project: str | None, domain: str | None) -> None:
    if project:
        _scope["project"] = project
    if domain:
        _scope["domain"] = domain


def _init_locally(project: str | None, domain: str | None, kwargs: dict[str, Any]) -> Any:
    from flyte_core.api.runs import _init

    _remember_scope(project, domain)
    # What flyte.init itself takes (a flyte.storage setting or a data URL as ``storage``); the rest is remote-only.
    keys = ("root_dir", "log_level", "backend", "config", "storage")
    local = {k: kwargs[k] for k in keys if kwargs.get(k) is not None}
    return _init(**local)


def init_from_api_key(api_key: str | None = None, project: str | None = None, domain: str | None = None,
                      **kwargs: Any) -> Any:
    """Flyte 2 authenticates with ``api_key``; here it sets up the default session as ``flyte.init`` does
    (``root_dir``, ``log_level``, ``storage`` are honoured) and remembers ``project``/``domain``."""
    return _init_locally(project, domain, kwargs)


def init_in_cluster(org: str | None = None, project: str | None = None, domain: str | None = None,
                    api_key: str | None = None, endpoint: str | None = None, insecure: bool = False) -> dict[str, Any]:
    """Set up the default session inside a worker (Flyte 2: from the pod's environment). Returns the
    settings it used, as Flyte 2 returns the controller's."""
    _init_locally(project, domain, {})
    return {"org": org, "project": current_project(), "domain": current_domain(), "endpoint": endpoint,
            "insecure": insecure}


def init_passthrough(endpoint: str | None = None, org: str | None = None, project: str | None = None,
                     domain: str | None = None, insecure: bool = False) -> dict[str, Any]:
    """Flyte 2 forwards the caller's credentials to ``endpoint``; here it sets up the default session."""
    _init_locally(project, domain, {})
    return {"org": org, "project": current_project(), "domain": current_domain(), "endpoint": endpoint,
            "insecure": insecure}


def is_control_plane_available() -> bool:
    """False: flyte-core runs tasks on its own backends, never through a Flyte control plane."""
    return False


def current_project() -> str:
    """The project of the running action, else the one given to an init function, else "default"."""
    ctx = context.current()
    if ctx is not None:
        return ctx.action.project
    return _scope.get("project", _DEFAULT_PROJECT)


def current_domain() -> str:
    """The domain of the running action, else the one given to an init function, else "development"."""
    ctx = context.current()
    if ctx is not None:
        return ctx.action.domain
    return _scope.get("domain", _DEFAULT_DOMAIN)


def deploy(*envs: Any, **kwargs: Any) -> list[Any]:
    """Flyte 2 registers environments with a control plane; there is none here, so this raises
    :class:`DeploymentError` saying what to use instead."""
    names = ", ".join(getattr(e, "name", repr(e)) for e in envs) or "no environments"
    raise DeploymentError(f"flyte.deploy({names}) needs a Flyte control plane, which flyte-core does not use: run "
                          "tasks with flyte.run or `flyte run`, and build images ahead with flyte.build_images or "
                          "`flyte build`.")


def _find_task(name: str) -> Any:
    from flyte_core.task.template import TaskTemplate

    for module in list(sys.modules.values()):
        for value in list(getattr(module, "__dict__", {}).values()):
            if isinstance(value, TaskTemplate) and value.name == name:
                return value
    return None


def rerun(run_name: str, action_name: str = "a0", recover: bool = False, force_rerun_actions: Any = None,
          allow_missing_source_outputs: bool = False, **inputs: Any) -> Any:
    """Run the task of the recorded run ``run_name`` again, in a new run, with the inputs it had
    (each keyword in ``inputs`` replaces one). ``recover=True`` reuses the outputs of every action of
    the old run that succeeded (as ``flyte run --recover``). The task's module must be imported.
    Only the root action (``"a0"``) can be re-run here; ``force_rerun_actions`` and
    ``allow_missing_source_outputs`` are accepted for Flyte 2 and have no effect."""
    from flyte_core.api.runs import current_session
    from flyte_core.run.session import RunOptions

    if action_name != "a0":
        raise TaskInputError(f"flyte.rerun: only the root action 'a0' of run '{run_name}' can be re-run here, "
                             f"not '{action_name}'.")
    session = current_session()
    rec = session.get_run(run_name)
    if rec is None:
        raise TaskInputError(f"flyte.rerun: there is no run named '{run_name}' in this session's run store.")
    task = _find_task(rec.task)
    if task is None:
        raise TaskInputError(f"flyte.rerun: run '{run_name}' ran task '{rec.task}', which is not loaded in this "
                             "process; import the module that defines it first.")
    values = session.engine.decode_inputs(task.name, task.interface, rec.inputs or {},
                                          session.conversion(run_name, "inputs"))
    values.update(inputs)
    return session.run_with(RunOptions(recover=run_name if recover else None), task, (), values)


__all__ = ["Link", "current_domain", "current_project", "deploy", "init_from_api_key", "init_in_cluster",
           "init_passthrough",
           "is_control_plane_available", "rerun", "system_logger"]
