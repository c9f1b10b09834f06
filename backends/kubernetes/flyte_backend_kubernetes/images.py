"""Task images for pods: built by an image builder (the docker backend's by default), pushed to
a registry when one is configured (or the image names one), else left in the local engine for
single-node clusters (also with ``push_images: false``).

An image the user names as it is (``flyte.Image.from_base("repo/name:tag")`` or a plain string
``image=``) is not touched locally at all: the cluster pulls it, and a reference it cannot pull
fails the attempt as ImagePullBackOffError naming the image.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flyte_core.extend import FlyteUsageError, Image


def used_as_is(image: Image) -> bool:
    """True for an image reference to run unchanged (nothing to build)."""
    return (image.dockerfile is None and bool(image.base_image) and not image.layers and not image.install_flyte
            and not str(image.base_image).startswith("ref:"))


class PodImages:
    """Resolves image specs to references pods can run; thread-safe, one push per image.
    ``packages`` are pip requirements every built image gets on top of its spec (what pods need
    to open a remote data store). With ``push`` False nothing is pushed, not even an image whose
    spec names a registry: pods run the local tags (a single-node cluster on this engine)."""

    def __init__(self, builder: Any, docker_client: Any, registry: str | None,
                 log: Callable[[str], None] = lambda line: None, packages: Sequence[str] = (),
                 push: bool = True) -> None:
        self._builder = builder
        self._push_images = push
        self._packages = tuple(packages)
        self._client = docker_client
        self._registry = registry.rstrip("/") if registry else None
        self._log = log
        self._lock = threading.Lock()
        self._pushed: set[str] = set()  # references pushed by this process (one push each)

    def ensure(self, image: Image | None) -> str:
        """The reference a pod runs for ``image``."""
        image = image or Image.from_debian_base()
        if used_as_is(image):
            return str(image.base_image)
        local = str(self._builder.ensure(image.with_pip_packages(*self._packages) if self._packages else image))
        registry = (image.registry or self._registry or "").rstrip("/")
        return self._push(local, registry) if registry and self._push_images else local

    def _push(self, local: str, registry: str) -> str:
        repo, _, tag = local.rpartition(":")
        remote_repo = f"{registry}/{repo.rsplit('/', 1)[-1]}"
        target = f"{remote_repo}:{tag}"
        with self._lock:
            if target in self._pushed:
                return target
            self._log(f"Pushing {local} as {target}")
            hint = "check the registry (backends.kubernetes.registry: host:port/prefix) and that you are logged in"
            try:
                self._client.images.get(local).tag(remote_repo, tag)
                errors = [line["error"] for line in self._client.images.push(remote_repo, tag, stream=True, decode=True)
                          if isinstance(line, dict) and line.get("error")]
            except Exception as e:  # docker.errors.APIError: an invalid reference, an engine refusing the push
                raise FlyteUsageError(f"Pushing image {target} failed: {getattr(e, 'explanation', None) or e}; "
                                      f"{hint}.") from e
            if errors:
                raise FlyteUsageError(f"Pushing image {target} failed: {errors[-1]}; {hint}.")
            self._pushed.add(target)
        return target


def image_key(image: Image) -> str:
    """What identifies an image spec across processes (a driver pod finds prebuilt tags by it): the
    content and where it is pushed (the same spec for two registries is two references); never the
    ``registry_secret``, which only says how it is pulled."""
    return json.dumps([image.name, image.registry, image.spec()], sort_keys=True, default=str)


class PrebuiltImages:
    """Image references built before the run by whoever launched it (a driver pod has no Docker
    engine): ``tags`` maps :func:`image_key` to the reference to run."""

    def __init__(self, tags: Mapping[str, str]) -> None:
        self._tags = dict(tags)

    def ensure(self, image: Image | None) -> str:
        """The prebuilt reference of ``image``; a usage error naming it when none was built."""
        image = image or Image.from_debian_base()
        if used_as_is(image):
            return str(image.base_image)
        tag = self._tags.get(image_key(image))
        if tag is None:
            raise FlyteUsageError(
                f"No image was built for {image.name or 'an environment'} before this durable run started (its "
                "environment is not reachable from the task's module); declare the environment in that module or "
                "run without a driver pod.")
        return tag
