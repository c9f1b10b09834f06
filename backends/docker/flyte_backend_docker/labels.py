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
#: The run store the run is recorded in (``BackendRun.store``): run names are unique only per store.
STORE_LABEL = "org.flyte.store"


def run_labels(run: str, pid: int, host: str, store: str) -> dict[str, str]:
    """Labels every container of a run carries: the run, the controller driving it (``pid@host``)
    and its run store; what finds, aborts and cleans up a run's containers matches on them."""
    return {RUN_LABEL: run, CONTROLLER_LABEL: f"{pid}@{host}", STORE_LABEL: store}


def labels_for(spec: ActionSpec, pid: int, host: str, store: str) -> dict[str, str]:
    """Labels of an attempt's container (never anything secret)."""
    return {**run_labels(spec.run_name, pid, host, store), ACTION_LABEL: spec.action, TASK_LABEL: spec.task_name,
            ATTEMPT_LABEL: str(spec.attempt)}


def run_filters(run: str | None, store: str | None) -> dict[str, list[str]]:
    """Engine filters (labels, all must match) for the containers of ``run`` (of every run when
    None) recorded in the run store ``store`` (in any store when None)."""
    return {"label": [f"{RUN_LABEL}={run}" if run else RUN_LABEL, *([f"{STORE_LABEL}={store}"] if store else [])]}


def prune_dead(client: docker.DockerClient, store: str | None, run: str | None = None) -> list[str]:
    """Remove the task containers of the run store ``store`` (of any store when None) whose
    controller process is gone (or every container of ``run``); return the runs they belonged to."""
    removed: set[str] = set()
    for c in client.api.containers(all=True, filters=run_filters(run, store)):
        labels = c.get("Labels") or {}
        if run is None and controller_alive(labels.get(CONTROLLER_LABEL, "")):
            continue
        with contextlib.suppress(docker.errors.APIError):
            client.api.remove_container(c["Id"], force=True, v=True)
            removed.add(labels.get(RUN_LABEL, "?"))
    return sorted(removed)


def prune_orphans(client: docker.DockerClient, run: str, store: str) -> int:
    """Remove the containers of ``run`` (of the run store ``store``) whose controller process is
    gone; return how many."""
    count = 0
    for c in client.api.containers(all=True, filters=run_filters(run, store)):
        if controller_alive((c.get("Labels") or {}).get(CONTROLLER_LABEL, "")):
            continue
        with contextlib.suppress(docker.errors.APIError):
            client.api.remove_container(c["Id"], force=True, v=True)
            count += 1
    return count
