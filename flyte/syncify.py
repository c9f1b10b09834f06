"""Flyte 2's ``flyte.syncify``: re-exported from :mod:`flyte_core.runtime.syncify`."""

from flyte_core.runtime.syncify import Syncify, syncify

__all__ = ["Syncify", "syncify"]
