"""The 'progress' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestProgressPlugin(PluginSuite):
    """Entry point 'progress': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "progress"
