"""Test helpers for flyte-core and for plugin authors, used in a plugin's own repository.

- :mod:`flyte_core.testing.plugin`: the pytest plugin (loaded automatically): a temporary
  ``FLYTE_HOME`` for every test, and fixtures ``flyte_session``, ``flyte_plugins``,
  ``hook_recorder`` and ``flyte_project``.
- :mod:`flyte_core.testing.backends`: :class:`~flyte_core.testing.backends.BackendSuite`, the
  conformance suite every backend runs against itself.
- :mod:`flyte_core.testing.types`: :class:`~flyte_core.testing.types.TypeTransformerSuite`, the
  conformance suite of type transformers.
- The helpers below (from :mod:`flyte_core.testing.kit`).
"""

from flyte_core.testing.kit import HookCall, HookRecorder, flyte_cli, in_project, make_plugins, write_project

__all__ = ["HookCall", "HookRecorder", "flyte_cli", "in_project", "make_plugins", "write_project"]
