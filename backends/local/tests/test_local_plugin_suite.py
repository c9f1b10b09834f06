"""The 'local' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestLocalPlugin(PluginSuite):
    """Entry point 'local': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "local"
