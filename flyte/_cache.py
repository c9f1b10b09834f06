"""Flyte 2's ``flyte._cache``: cache settings and the policies that version cached tasks.

Re-exports only; the logic lives in :mod:`flyte_core.models` and :mod:`flyte_core.cachepolicy`.
"""

from flyte_core.cachepolicy import CachePolicy, FunctionBodyPolicy, VersionParameters, get_default_policies
from flyte_core.models import Cache, CacheBehavior, CacheRequest

__all__ = ["Cache", "CacheBehavior", "CachePolicy", "CacheRequest", "FunctionBodyPolicy", "VersionParameters",
           "get_default_policies"]
