"""flyte-core: the minimal core that runs Flyte 2 task code on pluggable backends.

Importing this package has no side effects: plugins load when a :class:`~flyte_core.run.session.Session`
is made, never at import time.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
