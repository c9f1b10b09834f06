"""The 'example' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestExamplePlugin(PluginSuite):
    """Entry point 'example': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "example"
