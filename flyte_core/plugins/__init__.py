"""The plugin manager, the hook specifications and the registries plugins fill."""
