"""Test helpers for flyte-core and for plugin authors (a pytest plugin: ``flyte_core.testing.plugin``)."""
