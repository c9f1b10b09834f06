"""The plugin distributions flyte-core's own repository ships, so a missing backend or command can say
which package to install instead of only that it is unknown."""

from __future__ import annotations

import attrs


@attrs.frozen
class KnownPlugin:
    """A first-party plugin distribution: its name on the index and its folder in a checkout."""

    distribution: str
    folder: str

    def install_hint(self) -> str:
        """How to install it, as one sentence."""
        return f"install {self.distribution} (from a flyte-core checkout: pip install -e {self.folder})"


_LOCAL = KnownPlugin("flyte-backend-local", "backends/local")
_DOCKER = KnownPlugin("flyte-backend-docker", "backends/docker")
_KUBERNETES = KnownPlugin("flyte-backend-kubernetes", "backends/kubernetes")

#: Backend name -> the distribution that provides it.
BACKENDS: dict[str, KnownPlugin] = {"local": _LOCAL, "local-process": _LOCAL, "docker": _DOCKER,
                                    "kubernetes": _KUBERNETES}

#: ``flyte`` subcommand -> the distribution that adds it.
COMMANDS: dict[str, KnownPlugin] = {"ui": KnownPlugin("flyte-ui", "plugins/ui"), "docker": _DOCKER,
                                    "kubernetes": _KUBERNETES, "serve": KnownPlugin("flyte-apps", "plugins/apps"),
                                    "triggers": KnownPlugin("flyte-triggers", "plugins/triggers")}
