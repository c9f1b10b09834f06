"""Exceptions as Flyte 2 names them, and flyte-core's own."""
