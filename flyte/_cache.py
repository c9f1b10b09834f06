"""Flyte 2's ``flyte._cache``: cache settings and the policies that version cached tasks.

Re-exports only; the logic lives in :mod:`flyte_core.task.settings` and :mod:`flyte_core.task.cachepolicy`.
"""

from flyte_core.task.cachepolicy import CachePolicy, FunctionBodyPolicy, VersionParameters, get_default_policies
from flyte_core.task.settings import Cache, CacheBehavior, CacheRequest

__all__ = ["Cache", "CacheBehavior", "CachePolicy", "CacheRequest", "FunctionBodyPolicy", "VersionParameters",
           "get_default_policies"]
