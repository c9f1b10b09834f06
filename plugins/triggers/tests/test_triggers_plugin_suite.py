"""The 'triggers' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestTriggersPlugin(PluginSuite):
    """Entry point 'triggers': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "triggers"
