"""The 'ui' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestUiPlugin(PluginSuite):
    """Entry point 'ui': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "ui"
