"""Registers the ``docker`` backend and the ``flyte docker`` commands, as any third party would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flyte_core.extend import hookimpl

if TYPE_CHECKING:
    # The run machinery is loaded by a run, and click by the command line (flyte_backend_docker.cli),
    # not by loading the plugin: a task container's worker loads every plugin and needs neither.
    import click

    from flyte_core.extend import Backend, BackendRegistry


def _docker(options: Mapping[str, Any]) -> Backend:
    from flyte_backend_docker.backend import DockerBackend

    return DockerBackend(options)


@hookimpl
def flyte_register_backends(registry: BackendRegistry) -> None:
    """``docker``: every action in its own container."""
    registry.add("docker", _docker)


@hookimpl
def flyte_register_image_builders(registry: Any) -> None:
    """``docker``: builds images with the local Docker engine."""
    from flyte_backend_docker.images import docker_image_builder

    registry.add("docker", docker_image_builder)


@hookimpl
def flyte_run_interrupted(run: Any, options: Mapping[str, Any], store: str) -> str | None:
    """Remove the containers a docker run whose controller died left behind."""
    if run.backend != "docker":
        return None
    import docker

    from flyte_backend_docker.labels import prune_orphans

    try:
        client = docker.from_env(timeout=10)
    except docker.errors.DockerException:
        return None  # no engine here: `flyte docker prune` where it runs
    try:
        removed = prune_orphans(client, run.name, store)
    finally:
        client.close()
    return f"removed {removed} container(s) of run {run.name} (docker)" if removed else None


@hookimpl
def flyte_add_cli_commands(cli: click.Group) -> None:
    """``flyte docker prune``."""
    from flyte_backend_docker.cli import docker_cmd

    cli.add_command(docker_cmd)
