"""``flyte secrets set|list|delete``: the local secret store (mode 0600)."""

from __future__ import annotations

import sys

import click

from flyte_core.cli.common import fail_usage
from flyte_core.security.secrets import LocalSecretStore


@click.group("secrets")
def secrets_cmd() -> None:
    """Secrets for tasks (``flyte.Secret``), kept in $FLYTE_HOME/secrets.json, readable only by you.

    A task's secret is also found in the environment as FLYTE_SECRET_<GROUP>_<KEY>.
    """


@secrets_cmd.command("set")
@click.argument("name")
@click.option("--value", default=None, help="The value (default: read from standard input, so it stays out of "
              "your shell history).")
def set_secret(name: str, value: str | None) -> None:
    """Store secret NAME (``key`` or ``group/key``)."""
    if value is None:
        value = click.prompt("Value", hide_input=True) if sys.stdin.isatty() else sys.stdin.read().rstrip("\n")
    if not value:
        fail_usage(f"Secret '{name}' needs a non-empty value.")
    LocalSecretStore().set(name, value)
    click.echo(f"Stored secret '{name}'.")


@secrets_cmd.command("list")
def list_secrets() -> None:
    """The names of the stored secrets (never their values)."""
    for name in LocalSecretStore().names():
        click.echo(name)


@secrets_cmd.command("delete")
@click.argument("name")
def delete_secret(name: str) -> None:
    """Remove secret NAME."""
    if not LocalSecretStore().delete(name):
        fail_usage(f"There is no secret '{name}'; see `flyte secrets list`.")
    click.echo(f"Deleted secret '{name}'.")
