"""Building environment images ahead of a run (``flyte.build``, ``flyte.build_images``, ``flyte build``).

Images are built by the session's image builders (the ``flyte_register_image_builders`` hook), the
same ones container backends use when a run starts, so an image built here is found, not rebuilt,
by the next run. The builder is the ``image_builder`` option of the configured container backend
(``docker`` unless the config names another).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from flyte_core.errors.core import ImageBuildError
from flyte_core.images.builder import ImageBuilder, image_builders
from flyte_core.images.spec import Image
from flyte_core.runtime.syncify import SyncAio

if TYPE_CHECKING:
    from flyte_core.run.session import Session
    from flyte_core.task.environment import TaskEnvironment

#: The backend whose options name the builder when the session's own backend builds no images.
_DEFAULT_IMAGE_BACKEND = "docker"


@attrs.frozen
class ImageBuild:
    """What :func:`build` returns: ``uri`` is the reference a container runs (None for a dry run).

    ``remote_run`` and ``build_run`` are Flyte 2's remote build runs; builds here are local, so they are None.
    """

    uri: str | None
    remote_run: Any = None
    build_run: Any = None


@attrs.frozen
class ImageCache:
    """What :func:`build_images` returns: each environment's name with its image reference."""

    image_lookup: Mapping[str, str]


def builder_for(session: Session, log: Callable[[str], None] | None = None, name: str | None = None) -> ImageBuilder:
    """The image builder the session's configuration names (``image_builder`` of its container backend)."""
    backend = session.backend_name if session.backend_name not in ("local", "local-process") else _DEFAULT_IMAGE_BACKEND
    options = dict(session.config.backend_options(backend))
    chosen = name or str(options.get("image_builder", _DEFAULT_IMAGE_BACKEND))
    factory = image_builders(session.plugins).get(chosen)
    return factory({"base_image": options.get("base_image"), "cache_dir": options.get("cache_dir"), "log": log})


def build_image(image: Image | str, *, session: Session | None = None, dry_run: bool = False, force: bool = False,
                log: Callable[[str], None] | None = None, builder: str | None = None) -> ImageBuild:
    """Build ``image`` (an :class:`Image` or a reference) unless the builder already has it.

    ``dry_run`` checks the spec and builds nothing. ``force`` is accepted for Flyte 2; builders here
    tag images by content, so an unchanged spec is never rebuilt and a changed one always is.
    """
    del force  # content-addressed builds: see the docstring
    spec = Image.from_base(image) if isinstance(image, str) else image
    if not isinstance(spec, Image):
        raise TypeError(f"flyte.build needs a flyte.Image or an image reference, got {image!r}")
    if dry_run:
        return ImageBuild(uri=None)
    if session is None:
        from flyte_core.api.runs import current_session

        session = current_session()
    b = builder_for(session, log, builder)
    try:
        return ImageBuild(uri=b.ensure(spec))
    except ImageBuildError:
        raise
    except Exception as e:  # an engine that is down, a refused build
        raise ImageBuildError(f"Image '{spec.name or spec}' could not be built with the '{b.name}' builder: "
                              f"{type(e).__name__}: {e}") from e


def build_environment_images(*envs: TaskEnvironment, session: Session | None = None,
                             log: Callable[[str], None] | None = None, builder: str | None = None) -> ImageCache:
    """Build the image of each environment (and of the environments they depend on) once each."""
    seen: dict[str, TaskEnvironment] = {}
    todo = list(envs)
    while todo:
        env = todo.pop(0)
        if env.name not in seen:
            seen[env.name] = env
            todo.extend(getattr(env, "depends_on", ()) or ())
    lookup: dict[str, str] = {}
    for name, env in seen.items():
        spec = env.image_spec
        if spec is None:
            continue
        uri = build_image(spec, session=session, log=log, builder=builder).uri
        if uri is not None:
            lookup[name] = uri
    return ImageCache(image_lookup=lookup)


def _build(image: Image | str, dry_run: bool = False, force: bool = False, wait: bool = True) -> ImageBuild:
    """Build ``image`` with the default session's image builder (Flyte 2's ``flyte.build``; builds
    here are local, so ``wait`` is always honoured)."""
    return build_image(image, dry_run=dry_run, force=force)


def _build_images(*envs: TaskEnvironment, **ignored: Any) -> ImageCache:
    """Build the images of ``envs`` and of the environments they depend on (Flyte 2's
    ``flyte.build_images``; ``copy_style`` and ``seed_cache`` are accepted without effect)."""
    return build_environment_images(*envs)


#: ``flyte.build(image)`` / ``await flyte.build.aio(image)``.
build = SyncAio(_build)
#: ``flyte.build_images(env, ...)`` / ``await flyte.build_images.aio(env, ...)``.
build_images = SyncAio(_build_images)
build.__name__, build_images.__name__ = "build", "build_images"

__all__ = ["ImageBuild", "ImageCache", "build", "build_environment_images", "build_image", "build_images",
           "builder_for"]
