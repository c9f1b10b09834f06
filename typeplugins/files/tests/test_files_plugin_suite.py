"""The 'files' plugin passes flyte-core's plugin conformance suite."""

from flyte_core.testing.plugins import PluginSuite


class TestFilesPlugin(PluginSuite):
    """Entry point 'files': loads in isolation, defined and documented hooks, a quiet import."""

    entry_point = "files"
