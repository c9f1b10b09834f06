"""The 'docker' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestDockerPlugin(PluginSuite):
    """Entry point 'docker': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "docker"
