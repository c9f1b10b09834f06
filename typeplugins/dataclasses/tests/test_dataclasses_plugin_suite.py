"""The 'dataclasses' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestDataclassesPlugin(PluginSuite):
    """Entry point 'dataclasses': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "dataclasses"
