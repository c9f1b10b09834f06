"""flyte.Image's Flyte 2 builder surface: signatures, PEP 723 scripts, project layers, secret mounts,
validate() and the ``flyte._image`` names (the spec only; the docker backend's tests build them)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import flyte
from flyte._image import DIST_FOLDER, PipPackages, PythonWheels
from flyte_core.images.layers import is_own_wheels, read_script_metadata, requirement_name
from flyte_core.images.spec import Image

# Flyte 2 2.12.1's parameter names, in order, for each builder method (facts of its public API).
FLYTE2_PARAMETERS = {
    "from_uv_script": ["script", "name", "registry", "registry_secret", "python_version", "index_url",
                       "extra_index_urls", "pre", "extra_args", "platform", "secret_mounts"],
    "from_pixi_script": ["script", "name", "registry", "registry_secret", "environment", "extra_args", "platform",
                         "secret_mounts"],
    "with_requirements": ["self", "file", "index_url", "extra_index_urls", "pre", "extra_args", "secret_mounts"],
    "with_pip_packages": ["self", "packages", "index_url", "extra_index_urls", "pre", "extra_args", "secret_mounts"],
    "with_uv_project": ["self", "pyproject_file", "uvlock", "index_url", "extra_index_urls", "pre", "extra_args",
                        "secret_mounts", "project_install_mode"],
    "with_poetry_project": ["self", "pyproject_file", "poetry_lock", "extra_args", "secret_mounts",
                            "project_install_mode"],
    "with_pixi_project": ["self", "manifest_file", "pixi_lock", "environment", "extra_args", "secret_mounts",
                          "project_install_mode"],
    "with_code_bundle": ["self", "copy_style", "dst"],
    "with_apt_packages": ["self", "packages", "secret_mounts"],
    "with_commands": ["self", "commands", "secret_mounts"],
    "validate": ["self"],
}

SCRIPT = '''#!/usr/bin/env -S uv run --script
# /// script
# requires-python = ">=3.11"
# dependencies = [
#    "polars>=1",
#    "flyte",
# ]
# ///
import polars
'''


@pytest.mark.parametrize("method", sorted(FLYTE2_PARAMETERS))
def test_signature_matches_flyte2(method: str) -> None:
    assert list(inspect.signature(getattr(Image, method)).parameters) == FLYTE2_PARAMETERS[method]


def test_from_uv_script_records_the_script_dependencies(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    image = Image.from_uv_script(script, name="job", registry="ghcr.io/me", index_url="https://idx/simple")
    assert image.install_flyte and image.name == "job" and image.registry == "ghcr.io/me"
    (layer,) = image.layers
    assert layer.kind == "uv_script"
    assert layer.args["metadata"]["dependencies"] == ["polars>=1", "flyte"]
    assert layer.args["index_url"] == "https://idx/simple"
    # Only the metadata block is the image's content: editing the code keeps the tag.
    script.write_text(SCRIPT + "print(polars)\n")
    assert Image.from_uv_script(script, name="job", index_url="https://idx/simple").tag == image.tag
    script.write_text(SCRIPT.replace("polars>=1", "polars>=2"))
    assert Image.from_uv_script(script, name="job", index_url="https://idx/simple").tag != image.tag


def test_script_metadata_errors_name_the_file(tmp_path: Path) -> None:
    assert read_script_metadata(_write(tmp_path / "plain.py", "print(1)\n")) == {}
    two = _write(tmp_path / "two.py", "# /// script\n# dependencies = []\n# ///\nx = 1\n" * 2)
    with pytest.raises(ValueError, match=r"two\.py has 2"):
        read_script_metadata(two)
    bad = _write(tmp_path / "bad.py", "# /// script\n# dependencies = [\n# ///\n")
    with pytest.raises(ValueError, match=r"bad\.py is not valid TOML"):
        read_script_metadata(bad)
    with pytest.raises(FileNotFoundError, match=r"gone\.py"):
        read_script_metadata(tmp_path / "gone.py")


def test_a_missing_script_is_reported_by_validate_not_at_definition(tmp_path: Path) -> None:
    # Image definitions are imported in containers too, where the developer's files may be absent.
    image = Image.from_uv_script(tmp_path / "gone.py", name="job")
    with pytest.raises(FileNotFoundError, match=r"gone\.py"):
        image.validate()


def test_requirement_names() -> None:
    assert [requirement_name(r) for r in ["Flyte[x]>=2", "unionai_reuse>=0.1.7", "a.b-c ; python_version>'3'"]] == [
        "flyte", "unionai-reuse", "a-b-c"]


def test_with_requirements_keeps_every_option(tmp_path: Path) -> None:
    req = _write(tmp_path / "requirements.txt", "six\n")
    layer = Image.from_debian_base().with_requirements(
        req, index_url="https://i", extra_index_urls="https://e", pre=True, extra_args="--no-deps",
        secret_mounts="token").layers[-1]
    assert layer.args["extra_index_urls"] == ["https://e"] and layer.args["pre"] is True
    assert layer.args["secret_mounts"] == [{"key": "token", "group": None, "mount": None, "as_env_var": "TOKEN"}]
    with pytest.raises(ValueError, match=r"\.txt"):
        Image.from_debian_base().with_requirements(tmp_path / "reqs.in")


def test_with_uv_project_finds_the_lock_and_checks_the_mode(tmp_path: Path) -> None:
    pyproject = _write(tmp_path / "pyproject.toml", "[project]\nname='x'\nversion='0'\n")
    assert Image.from_debian_base().with_uv_project(pyproject).layers[-1].args["uvlock"] is None
    _write(tmp_path / "uv.lock", "version = 1\n")
    layer = Image.from_debian_base().with_uv_project(pyproject, project_install_mode="install_project").layers[-1]
    assert layer.args["uvlock"] == str(tmp_path / "uv.lock") and layer.args["install_mode"] == "install_project"
    assert layer.args["project_sha256"]
    with pytest.raises(ValueError, match="project_install_mode"):
        Image.from_debian_base().with_uv_project(pyproject, project_install_mode="everything")  # type: ignore[arg-type]


def test_with_poetry_and_pixi_projects(tmp_path: Path) -> None:
    pyproject = _write(tmp_path / "pyproject.toml", "[tool.poetry]\nname='x'\n")
    image = Image.from_debian_base().with_poetry_project(pyproject, extra_args="--only main")
    assert image.layers[-1].args["poetry_lock"] == str(tmp_path / "poetry.lock")
    with pytest.raises(FileNotFoundError, match=r"poetry\.lock"):
        image.validate()
    _write(tmp_path / "poetry.lock", "# lock\n")
    image.validate()
    _write(tmp_path / "pixi.toml", "[workspace]\n")
    layer = Image.from_debian_base().with_pixi_project(tmp_path, environment="gpu").layers[-1]
    assert layer.kind == "pixi_project" and layer.args["manifest"] == str(tmp_path / "pixi.toml")
    assert layer.args["environment"] == "gpu"


def test_secret_mounts_are_named_not_valued_and_change_the_tag() -> None:
    base = Image.from_debian_base()
    plain = base.with_pip_packages("private-pkg")
    with_secret = base.with_pip_packages("private-pkg", secret_mounts=[flyte.Secret(key="pat", group="gh")])
    assert with_secret.layers[-1].args["secret_mounts"] == [
        {"key": "pat", "group": "gh", "mount": None, "as_env_var": "GH_PAT"}]
    assert plain.tag != with_secret.tag


def test_validate_names_missing_files(tmp_path: Path) -> None:
    image = Image.from_debian_base().with_source_file(tmp_path / "a.py")
    with pytest.raises(FileNotFoundError, match=r"a\.py"):
        image.validate()
    with pytest.raises(FileNotFoundError, match="nowhere"):
        Image.from_debian_base().with_source_folder(tmp_path / "nowhere").validate()
    with pytest.raises(FileNotFoundError, match=r"no \.whl"):
        Image.from_debian_base().clone(addl_layer=PythonWheels(wheel_dir=tmp_path, package_name="mine")).validate()
    Image.from_debian_base().with_pip_packages("six").validate()


def test_flyte_image_module_names() -> None:
    image = Image.from_debian_base().clone(addl_layer=PythonWheels(wheel_dir=DIST_FOLDER, package_name="flyte"),
                                           name="with-local-flyte")
    assert image.name == "with-local-flyte" and is_own_wheels(image.layers[-1].args)
    assert Image.from_debian_base().clone(addl_layer=PipPackages(packages=("six",))).layers[-1].kind == "pip"
    assert flyte.Image is Image


def test_local_plugins_and_rust_controller() -> None:
    from flyte._image import PYTHON_3_12, SOURCE_ROOT

    image = Image.from_debian_base(python_version=PYTHON_3_12).with_local_v2_plugins("flyteplugins-redis")
    assert image.layers[-1].args["package_name"] == "flyteplugins-redis"
    assert Path(image.layers[-1].args["wheel_dir"]) == SOURCE_ROOT / "dist"
    with pytest.raises(ValueError, match="must start with 'flyteplugins-'"):
        Image.from_debian_base().with_local_v2_plugins(["redis"])
    with pytest.raises(ValueError, match="Rust controller"):
        Image.from_debian_base().with_local_rs_controller()


def test_with_code_bundle_checks_its_style() -> None:
    layer = Image.from_debian_base().with_code_bundle(copy_style="all", dst="/app").layers[-1]
    assert (layer.kind, layer.args) == ("code_bundle", {"copy_style": "all", "dst": "/app"})
    with pytest.raises(ValueError, match="copy_style"):
        Image.from_debian_base().with_code_bundle(copy_style="some")  # type: ignore[arg-type]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
