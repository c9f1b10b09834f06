"""The 'pydantic' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestPydanticPlugin(PluginSuite):
    """Entry point 'pydantic': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "pydantic"
