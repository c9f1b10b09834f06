"""Shared CLI state and helpers."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import attrs
import click
from rich.console import Console

from flyte_core.session import Session


@attrs.define
class CliState:
    """What the top-level options chose; sessions are made on demand."""

    config_path: str | None = None
    _session: Session | None = None
    #: ``--output-format``: table (default), table-simple, json or json-raw.
    output_format: str = "table"
    #: ``-v`` given this many times.
    verbosity: int = 0

    @property
    def as_json(self) -> bool:
        """True when ``--output-format`` asks for JSON."""
        return self.output_format in ("json", "json-raw")

    def session(self, **kwargs: Any) -> Session:
        """A session built from the config file (and any overrides)."""
        if self._session is None or kwargs:
            self._session = Session(config=self.config_path, **kwargs)
        return self._session


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
    return Console(stderr=True, highlight=False)
