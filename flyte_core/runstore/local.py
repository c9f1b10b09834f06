"""Opening the run store a configuration names: a SQLite file, by default in ``$FLYTE_HOME``.

Shared by sessions and by the CLI's read-only commands (``flyte runs list|show``), which read a
finished run without making a session (and so without loading plugins)."""

from __future__ import annotations

import os

from flyte_core.config.home import home_dir
from flyte_core.runstore.sqlite import SQLiteRunStore
from flyte_core.security.privatefiles import private_dir


def open_run_store(path: str | os.PathLike[str]) -> SQLiteRunStore:
    """The SQLite run store at ``path`` (``~`` expanded), created if missing; when it is inside
    ``$FLYTE_HOME``, that folder is made owner-only first (it holds runs and secrets)."""
    path = os.path.expanduser(path)
    home = os.path.abspath(home_dir())
    if os.path.commonpath([os.path.abspath(path), home]) == home:
        private_dir(home)
    return SQLiteRunStore(path)
