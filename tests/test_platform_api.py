"""Flyte 2's control-plane entry points with their local meaning: init variants, project/domain,
rerun, build/build_images through the image-builder hook."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import flyte
import flyte.errors
from flyte_core.api.build import build_environment_images, build_image
from flyte_core.errors.core import TaskInputError
from flyte_core.images.spec import Image
from flyte_core.plugins.hookspecs import hookimpl
from flyte_core.run.session import Session
from tests import surface_tasks as t


class TagBuilder:
    """An image builder that 'builds' by recording the spec and naming it by its content."""

    name = "tags"

    def __init__(self, built: list[Image]) -> None:
        self.built = built

    def ensure(self, image: Image) -> str:
        self.built.append(image)
        return f"local/{image.name or 'auto'}:{abs(hash(str(image.spec()))) % 10**8}"


class TagBuilderPlugin:
    def __init__(self) -> None:
        self.built: list[Image] = []
        self.options: list[Mapping[str, Any]] = []

    @hookimpl
    def flyte_register_image_builders(self, registry: Any) -> None:
        def factory(options: Mapping[str, Any]) -> TagBuilder:
            self.options.append(options)
            return TagBuilder(self.built)

        registry.add("tags", factory)


def test_init_variants_set_up_the_default_session_and_remember_the_scope() -> None:
    assert flyte.init_from_api_key(api_key="secret", project="proj", domain="staging") is flyte.current_session()
    assert (flyte.current_project(), flyte.current_domain()) == ("proj", "staging")
    out = flyte.init_in_cluster(project="p2", endpoint="dns:///nowhere")
    assert out["project"] == "p2" and out["domain"] == "staging" and out["endpoint"] == "dns:///nowhere"
    assert flyte.init_passthrough(domain="prod")["domain"] == "prod"
    assert flyte.is_control_plane_available() is False


def test_inside_a_task_project_and_domain_are_the_actions() -> None:
    flyte.init()
    assert flyte.run(t.where_am_i).outputs()[0] == "default/development"


def test_rerun_starts_a_new_run_with_the_recorded_inputs() -> None:
    flyte.init()
    first = flyte.run(t.add_one, x=41)
    again = flyte.rerun(first.name)
    assert again.name != first.name and again.outputs()[0] == 42
    assert flyte.rerun(first.name, x=1).outputs()[0] == 2
    with pytest.raises(TaskInputError, match="no run named"):
        flyte.rerun("no-such-run")


def test_rerun_with_recover_reuses_what_succeeded() -> None:
    flyte.init()
    first = flyte.run(t.add_one, x=1)
    recovered = flyte.rerun(first.name, recover=True)
    assert recovered.outputs()[0] == 2


def test_build_goes_through_the_registered_image_builder(tmp_path: Path) -> None:
    plugin = TagBuilderPlugin()
    session = Session(plugins=(plugin,), root_dir=tmp_path)
    spec = Image.from_debian_base(name="surface").with_pip_packages("attrs")
    result = build_image(spec, session=session, builder="tags")
    assert result.uri is not None and result.uri.startswith("local/surface:") and plugin.built == [spec]
    assert build_image(spec, session=session, dry_run=True).uri is None and len(plugin.built) == 1
    assert set(plugin.options[0]) >= {"base_image", "cache_dir", "log"}


def test_build_images_builds_each_environment_and_its_dependencies_once(tmp_path: Path) -> None:
    plugin = TagBuilderPlugin()
    session = Session(plugins=(plugin,), root_dir=tmp_path)
    base = flyte.TaskEnvironment(name="base_env", image=Image.from_debian_base(name="base"))
    top = flyte.TaskEnvironment(name="top_env", image=Image.from_debian_base(name="top"), depends_on=[base])
    out = build_environment_images(top, base, session=session, builder="tags")
    assert sorted(out.image_lookup) == ["base_env", "top_env"] and len(plugin.built) == 2


def test_a_failing_builder_raises_image_build_error(tmp_path: Path) -> None:
    class Refuses:
        name = "refuses"

        def ensure(self, image: Image) -> str:
            raise OSError("engine is down")

    class Plugin:
        @hookimpl
        def flyte_register_image_builders(self, registry: Any) -> None:
            registry.add("refuses", lambda options: Refuses())

    session = Session(plugins=(Plugin(),), root_dir=tmp_path)
    with pytest.raises(flyte.errors.ImageBuildError, match="engine is down"):
        build_image(Image.from_debian_base(name="x"), session=session, builder="refuses")


def test_flyte_build_and_image_build_are_flyte2_shaped() -> None:
    result = flyte.build(Image.from_debian_base(name="dry"), dry_run=True)
    assert isinstance(result, flyte.ImageBuild) and result.uri is None and result.remote_run is None
    assert flyte.AsyncFunctionTaskTemplate is flyte.TaskTemplate
    assert isinstance(t.add_one, flyte.AsyncFunctionTaskTemplate)
    assert flyte.system_logger.name == "flyte"
