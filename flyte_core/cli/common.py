"""Shared CLI state and helpers."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import click

# rich and the session machinery (asyncio, the run store, the plugin manager) are imported by the
# commands that use them, so `flyte --help` and a plugin's command stay quick to start.
if TYPE_CHECKING:
    from click.shell_completion import CompletionItem
    from rich.console import Console
    from rich.table import Table

    from flyte_core.run.session import Session
    from flyte_core.runstore.store import RunStore


@attrs.define
class CliState:
    """What the top-level options chose; sessions are made on demand."""

    config_path: str | None = None
    _session: Session | None = None
    #: ``--output-format``: table (default), table-simple, json or json-raw.
    output_format: str = "table"
    #: ``-v`` given this many times.
    verbosity: int = 0
    _store: RunStore | None = None

    @property
    def as_json(self) -> bool:
        """True when ``--output-format`` asks for JSON."""
        return self.output_format in ("json", "json-raw")

    def session(self, **kwargs: Any) -> Session:
        """A session built from the config file (and any overrides)."""
        if self._session is None or kwargs:
            from flyte_core.run.session import Session

            self._session = Session(config=self.config_path, **kwargs)
        return self._session

    def run_store(self) -> RunStore:
        """The run store of the config file: the session's if one is made, else opened alone (no
        plugins loaded), for commands that only read what a run recorded."""
        if self._session is not None:
            return self._session.runs
        if self._store is None:
            from flyte_core.config.files import load_config
            from flyte_core.runstore.local import open_run_store

            self._store = open_run_store(load_config(self.config_path).runs_path)
        return self._store


#: The choices of ``flyte --output-format`` (Flyte 2's).
OUTPUT_FORMATS = ("table", "json", "table-simple", "json-raw")


def set_verbosity(level: int) -> None:
    """Show flyte-core's log records on stderr: INFO for ``-v``, DEBUG from ``-vv``."""
    import logging

    from rich.logging import RichHandler

    logger = logging.getLogger("flyte")
    logger.setLevel(logging.DEBUG if level > 1 else logging.INFO)
    if not any(getattr(h, "_flyte_cli", False) for h in logger.handlers):
        handler = RichHandler(console=err_console(), show_path=False)
        handler._flyte_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def fail_usage(message: str) -> NoReturn:
    """Print one line and exit 2, as for any usage error."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def err_console() -> Console:
    """A rich console on stderr (progress and diagnostics; stdout is for results)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@attrs.frozen
class Column:
    """A table column: ``optional`` columns are left out when the terminal is too narrow (the last
    optional one first); ``wrap`` columns may wrap at spaces, the others are never wrapped or cut."""

    header: str
    optional: bool = False
    wrap: bool = False


def fitted_table(console: Console, columns: list[Column], rows: list[list[str]]) -> Table:
    """A table of ``rows`` that fits the console's width: optional columns are dropped, last first,
    until every unwrappable cell fits on one line (wide terminals show them all). Cells are rich
    markup without emoji codes (``:x:`` stays as it is, and rich's emoji table is never loaded)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    needs = [_width_needed(c, [row[i] for row in rows]) for i, c in enumerate(columns)]
    keep = list(range(len(columns)))
    optional = [i for i, c in enumerate(columns) if c.optional]
    while optional and sum(needs[i] for i in keep) + _GAP * (len(keep) - 1) > console.width:
        keep.remove(optional.pop())
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for i in keep:
        c = columns[i]
        table.add_column(Text(c.header), no_wrap=not c.wrap, min_width=None if c.wrap else needs[i], overflow="fold")
    for row in rows:
        table.add_row(*(Text.from_markup(row[i], emoji=False) for i in keep))
    return table


#: Columns are apart by a space, a (blank) rule and a space.
_GAP = 3
#: A wrapping column keeps at least this many cells when its text is longer.
_WRAP_WIDTH = 30


def _width_needed(column: Column, cells: list[str]) -> int:
    from rich.text import Text

    texts = [Text.from_markup(c, emoji=False) for c in cells] + [Text(column.header)]
    full = max(t.cell_len for t in texts)
    if not column.wrap:
        return full
    longest_word = max((Text(w).cell_len for t in texts for w in t.plain.split()), default=0)
    return max(longest_word, min(full, _WRAP_WIDTH))


def complete_run_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion of a RUN argument: names of recent runs in the run store, newest first."""
    from click.shell_completion import CompletionItem

    from flyte_core.config.files import load_config
    from flyte_core.runstore.local import open_run_store

    config = ctx.find_root().params.get("config")
    try:
        store = open_run_store(load_config(config).runs_path)  # no session: completions must be quick
        try:
            runs = store.list_runs(limit=200)
        finally:
            store.close()
    except Exception:  # a completion never prints errors into the user's shell
        return []
    return [CompletionItem(r.name, help=f"{r.task} {r.phase.value}") for r in runs if r.name.startswith(incomplete)]
