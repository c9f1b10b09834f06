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
