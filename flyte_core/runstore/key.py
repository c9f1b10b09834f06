"""Which run store a run belongs to, as a short key for labels on containers and pods.

A run's name is unique only within its run store: two projects (or two test sessions, or two
users) on one Docker engine or Kubernetes namespace may each have a run ``r1``. Backends label what
they create with this key as well as the run's name, and find, stop and clean up only what carries
both, so one store's runs never touch another's.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

from flyte_core.runstore.store import RunStore


def run_store_key(store: RunStore) -> str:
    """A 16-hex-digit key naming ``store`` on this machine: the same for every process that opens
    the same file (the machine's name and the file's resolved path), different for any other."""
    where = getattr(store, "path", None)
    place = str(Path(where).resolve()) if where is not None else f"{type(store).__qualname__}@{id(store)}"
    return hashlib.sha256(f"{socket.gethostname()}:{place}".encode()).hexdigest()[:16]
