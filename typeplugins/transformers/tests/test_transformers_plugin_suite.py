"""The 'transformers' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestTransformersPlugin(PluginSuite):
    """Entry point 'transformers': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "transformers"
