"""``flyte docker ...``: the Docker backend's housekeeping commands (added by the plugin's
``flyte_add_cli_commands``; imported only by the command line)."""

from __future__ import annotations

import click


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
