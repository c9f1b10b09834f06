"""The ``example-echo`` backend: the in-process local backend under another name.

Real backends implement the :class:`flyte_core.run.backend.Backend` protocol themselves (``start``,
``execute``, ``execute_inline``, ``blocked``, ``close``); reusing the local one keeps the
example short while still proving that a third-party package can add a backend.
"""

from __future__ import annotations

from flyte_backend_local.inprocess import InProcessBackend


class EchoBackend(InProcessBackend):
    """Runs actions in this process, exactly as the ``local`` backend does."""

    name = "example-echo"
