"""``flyte plugins``: every loaded plugin, its version and what it provides."""

from __future__ import annotations

import json

import attrs
import click

from flyte_core.cli.common import CliState


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def plugins_cmd(state: CliState, as_json: bool) -> None:
    """List loaded plugins, the hooks they implement, the backends available, and broken plugins."""
    session = state.session()
    infos = session.plugins.infos()
    backends = {name: session.backends.owner(name) for name in session.backends.names()}
    failures = session.plugins.failures
    if as_json:
        click.echo(json.dumps({
            "plugins": [attrs.asdict(i) for i in infos],
            "backends": backends,
            "failures": [attrs.asdict(f) for f in failures],
        }, indent=2))
        return
    from flyte_core.cli.table import Cell, Column, print_table

    rows: list[list[Cell]] = []
    for i in infos:
        provides = [h.removeprefix("flyte_") for h in i.hooks]
        extra = [f"backend:{b}" for b, owner in backends.items() if owner == i.name]
        rows.append([i.name, ", ".join(extra + provides), i.distribution or "-", i.version or "-"])
    columns = [Column("plugin"), Column("provides", wrap=True), Column("distribution", optional=True),
               Column("version", optional=True)]
    print_table(columns, rows)
    for f in failures:
        click.echo(click.style(f"✗ {f.name}", fg="red") + f" ({f.distribution or '?'} {f.version or ''}) failed to "
                   f"load: {f.error}\n  hint: {f.hint}")
