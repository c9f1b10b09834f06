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

    def session(self, **kwargs: Any) -> Session:
        """A session built from the config file (and any overrides)."""
        if self._session is None or kwargs:
            self._session = Session(config=self.config_path, **kwargs)
        return self._session


def fail_usage(message: str) -> NoReturn:
    """Print one line and exit 2, as for any usage error."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def err_console() -> Console:
    """A rich console on stderr (progress and diagnostics; stdout is for results)."""
    return Console(stderr=True, highlight=False)
