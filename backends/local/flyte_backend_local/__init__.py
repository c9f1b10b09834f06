"""The local backend: runs a run's actions on this machine, in this process or in worker processes."""

from flyte_backend_local.inprocess import InProcessBackend

__all__ = ["InProcessBackend"]
