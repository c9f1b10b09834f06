"""``flyte cache list|clear``: look at and drop cached task outputs."""

from __future__ import annotations

import json
import time

import attrs
import click

from flyte_core.cli.common import CliState


@click.group("cache")
def cache_cmd() -> None:
    """Cached task outputs."""


@cache_cmd.command("list")
@click.option("--task", default=None, help="Only entries of this task (env.function).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_cache(state: CliState, task: str | None, as_json: bool) -> None:
    """Cache entries, newest first."""
    entries = state.session().runs.list_cache(task)
    if as_json:
        click.echo(json.dumps([attrs.asdict(e) for e in entries], indent=2))
        return
    if not entries:
        click.echo(f"no cache entries{f' of {task}' if task else ''}", err=True)
        return
    from flyte_core.cli.table import Cell, Column, print_table

    columns = [Column("task"), Column("key"), Column("from run"), Column("created"), Column("version", optional=True)]
    rows: list[list[Cell]] = [[e.task, e.key[:12], f"{e.run} {e.action}",
                               time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.created_at)), e.version]
                              for e in entries]
    print_table(columns, rows)


@cache_cmd.command("clear")
@click.argument("task", required=False)
@click.pass_obj
def clear_cache(state: CliState, task: str | None) -> None:
    """Drop every cache entry, or those of TASK."""
    session = state.session()
    from flyte_core.run.cache import Cache

    n = Cache(session.runs, session.data).clear(task)
    click.echo(f"Removed {n} cache entr{'y' if n == 1 else 'ies'}{f' of {task}' if task else ''}.")
