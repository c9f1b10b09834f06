"""Registers the local backends with flyte-core, exactly as a third-party backend would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flyte_core.extend import hookimpl

if TYPE_CHECKING:  # the run machinery: loaded by a run, not by loading the plugin (`flyte --help`)
    from flyte_core.extend import Backend, BackendRegistry


def _in_process(options: Mapping[str, Any]) -> Backend:
    from flyte_backend_local.inprocess import InProcessBackend

    return InProcessBackend(options)


def _process(options: Mapping[str, Any]) -> Backend:
    # Imported on first use: sessions on the in-process backend never load the channel machinery.
    from flyte_backend_local.process import ProcessBackend

    return ProcessBackend(options)


@hookimpl
def flyte_register_backends(registry: BackendRegistry) -> None:
    """``local``: actions run in this process (async tasks on the loop, sync ones in a bounded
    pool). ``local-process``: every action runs in its own worker process."""
    registry.add("local", _in_process)
    registry.add("local-process", _process)
