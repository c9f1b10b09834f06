"""The 'containertask' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestContainertaskPlugin(PluginSuite):
    """Entry point 'containertask': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "containertask"
