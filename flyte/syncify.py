"""Flyte 2's ``flyte.syncify``: re-exported from :mod:`flyte_core.syncify`."""

from flyte_core.syncify import Syncify, syncify

__all__ = ["Syncify", "syncify"]
