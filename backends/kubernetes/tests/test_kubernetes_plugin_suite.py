"""The 'kubernetes' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestKubernetesPlugin(PluginSuite):
    """Entry point 'kubernetes': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "kubernetes"
