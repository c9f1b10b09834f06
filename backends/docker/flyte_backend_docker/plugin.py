"""Registers the ``docker`` backend and the ``flyte docker`` commands, as any third party would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from flyte_core.extend import hookimpl

if TYPE_CHECKING:  # the run machinery: loaded by a run, not by loading the plugin (`flyte --help`)
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


@click.group("docker")
def docker_cmd() -> None:
    """The Docker backend's housekeeping."""


@docker_cmd.command("prune")
@click.option("--run", default=None, help="Remove every container of this run (default: of runs whose driver died).")
@click.option("--any-store", is_flag=True,
              help="Also remove leftovers of runs recorded in other run stores (other projects or FLYTE_HOMEs).")
@click.pass_context
def prune_cmd(ctx: click.Context, run: str | None, any_store: bool) -> None:
    """Remove task containers left behind by runs whose controller is gone (of this run store's runs)."""
    import docker

    from flyte_backend_docker.labels import prune_dead
    from flyte_core.extend import CliState

    store = None if any_store else ctx.ensure_object(CliState).session().store_key
    client = docker.from_env()
    runs = prune_dead(client, store, run)
    click.echo(f"Removed containers of {len(runs)} run(s){': ' + ', '.join(runs) if runs else ''}.")


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
    cli.add_command(docker_cmd)
