"""Labels on task containers, and cleaning up after runs whose controller died."""

from __future__ import annotations

import contextlib

import docker
import docker.errors

from flyte_core.extend import ActionSpec, controller_alive

RUN_LABEL = "org.flyte.run"
ACTION_LABEL = "org.flyte.action"
TASK_LABEL = "org.flyte.task"
ATTEMPT_LABEL = "org.flyte.attempt"
#: The controller process driving the run (pid@host): a container whose controller is gone is a leftover.
CONTROLLER_LABEL = "org.flyte.controller"


def labels_for(spec: ActionSpec, pid: int, host: str) -> dict[str, str]:
    """Labels of an attempt's container (never anything secret)."""
    return {RUN_LABEL: spec.run_name, ACTION_LABEL: spec.action, TASK_LABEL: spec.task_name,
            ATTEMPT_LABEL: str(spec.attempt), CONTROLLER_LABEL: f"{pid}@{host}"}


def prune_dead(client: docker.DockerClient, run: str | None = None) -> list[str]:
    """Remove task containers whose controller process is gone (or every container of ``run``);
    return the runs they belonged to."""
    removed: set[str] = set()
    flt = {"label": f"{RUN_LABEL}={run}"} if run else {"label": RUN_LABEL}
    for c in client.api.containers(all=True, filters=flt):
        labels = c.get("Labels") or {}
        if run is None and controller_alive(labels.get(CONTROLLER_LABEL, "")):
            continue
        with contextlib.suppress(docker.errors.APIError):
            client.api.remove_container(c["Id"], force=True, v=True)
            removed.add(labels.get(RUN_LABEL, "?"))
    return sorted(removed)


def prune_orphans(client: docker.DockerClient, run: str) -> int:
    """Remove the containers of ``run`` whose controller process is gone; return how many."""
    count = 0
    for c in client.api.containers(all=True, filters={"label": f"{RUN_LABEL}={run}"}):
        if controller_alive((c.get("Labels") or {}).get(CONTROLLER_LABEL, "")):
            continue
        with contextlib.suppress(docker.errors.APIError):
            client.api.remove_container(c["Id"], force=True, v=True)
            count += 1
    return count
