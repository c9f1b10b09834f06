"""The 'apps' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestAppsPlugin(PluginSuite):
    """Entry point 'apps': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "apps"
