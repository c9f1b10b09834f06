"""The 'dataframes' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestDataframesPlugin(PluginSuite):
    """Entry point 'dataframes': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "dataframes"
