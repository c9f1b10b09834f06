"""Launchers: runs whose controller lives somewhere else than the process that started them.

A backend whose runs can outlive the terminal (Kubernetes: a driver pod drives the run from
inside the cluster) registers a :class:`Launcher` under its own name through
``flyte_register_launchers``. ``flyte run --backend NAME`` then launches the run there instead of
driving it in-process, follows it, and may detach; ``flyte runs show RUN --follow`` re-attaches.

A launched run is recorded in this machine's run store at once (phase queued) with the label
:data:`LAUNCHER_LABEL` naming its launcher, so every command finds it. From then on the session
asks the launcher to bring the record up to date (:meth:`Launcher.sync`) whenever it reads an
unfinished launched run, and to stop it (:meth:`Launcher.abort`) when it is aborted; how the
records travel (a shared run store, copies through the data store) is the launcher's business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from flyte_core.plugins.registry import Registry
from flyte_core.runstore.records import RunRecord
from flyte_core.security.names import optional_name

if TYPE_CHECKING:
    from flyte_core.run.session import Session

#: Label of a launched run; its value is the launcher's (= backend's) name.
LAUNCHER_LABEL = "flyte-core.org/launcher"


@attrs.frozen
class LaunchRequest:
    """What to launch: task ``task`` of the Python file ``file`` with command-line ``inputs``
    (``["--x", "3"]``, parsed where the run is driven, as ``flyte run`` parses them)."""

    file: str
    task: str
    inputs: Sequence[str] = ()
    #: The run's name (the launcher picks one when None).
    name: str | None = attrs.field(default=None, validator=optional_name())
    labels: Mapping[str, str] = attrs.field(factory=dict)
    env_vars: Mapping[str, str] = attrs.field(factory=dict)
    #: Run options the launcher passes through: overwrite_cache, recover.
    overwrite_cache: bool = False
    recover: str | None = attrs.field(default=None, validator=optional_name("run name to recover"))


@runtime_checkable
class Launcher(Protocol):
    """Starts runs on a backend that drives them away from this process."""

    def launch(self, session: Session, request: LaunchRequest) -> RunRecord:
        """Start the run; return its record as put in ``session.runs`` (queued, labelled with
        :data:`LAUNCHER_LABEL`). Raise ``FlyteUsageError`` for anything the user must fix."""
        ...

    def sync(self, session: Session, run: RunRecord) -> None:
        """Bring ``session.runs``' records of the unfinished ``run`` up to date; when the run can no
        longer end by itself (its driver is gone), record it as ended with the reason."""
        ...

    def abort(self, session: Session, run: RunRecord) -> None:
        """Stop the unfinished ``run`` wherever it is driven (its record shows the outcome)."""
        ...


class LauncherRegistry(Registry[str, Launcher]):
    """Launchers by backend name, filled by ``flyte_register_launchers``."""

    def __init__(self) -> None:
        super().__init__("launcher")


def launcher_of(run: RunRecord) -> str | None:
    """The name of the launcher that started ``run``, or None for a run driven in-process."""
    return run.labels.get(LAUNCHER_LABEL)
