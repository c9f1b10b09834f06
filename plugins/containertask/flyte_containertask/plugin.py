"""The plugin module of flyte-containertask (entry point group ``flyte``).

It registers no hook: a ContainerTask runs through its own function (the local Docker engine), and
container backends run it as a :class:`flyte_core.rawcontainer.RawContainerTask`. Being an entry point
lists the distribution in ``flyte plugins``.
"""
