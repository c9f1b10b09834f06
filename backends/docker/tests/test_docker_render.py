"""dockerfile.render: the Dockerfile and build context of each layer kind (no engine needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flyte_backend_docker.dockerfile import WHEELS_DIR, DockerfileError, render

from flyte_core.extend import Image, Layer

BASE = "example/base:1"


#: The last two lines of a default image with a layer that can install packages: flyte-core's own wheels again.
OWN_LAST = [
    "COPY --from=flyte-venv /tmp/wheels/flyte_core-*.whl /tmp/flyte-own-wheels/",
    "RUN python3 -m pip uninstall -y -q flyte && python3 -m pip install --no-cache-dir --no-index --no-deps "
    "--force-reinstall /tmp/flyte-own-wheels/*.whl && rm -rf /tmp/flyte-own-wheels",
]
#: The last line of an image that installs flyte-core: its plugins' entry points recorded.
FREEZE = "RUN python3 -m flyte_core.plugins.entrypoints >/dev/null"


def body(text: str) -> list[str]:
    """The lines of a Dockerfile that installs flyte-core, without its last line (:data:`FREEZE`)."""
    lines = text.splitlines()
    assert lines[-1] == FREEZE
    return lines[:-1]


def lines_after_preamble(image: Image) -> list[str]:
    """The layer lines of a default image (after the venv's ENV PATH line, before the own-wheels step)."""
    text, _ = render(image, BASE, ["flyte-core"])
    lines = body(text)
    lines = lines[lines.index("ENV PATH=/opt/flyte/bin:$PATH VIRTUAL_ENV=/opt/flyte") + 1:]
    return lines[:-2] if lines[-2:] == OWN_LAST else lines


def test_default_image() -> None:
    text, files = render(Image.from_debian_base(), BASE, ["flyte-core", "flyte-backend-local"])
    assert files == []
    assert text.splitlines() == [
        f"FROM {BASE} AS flyte-venv",
        "LABEL org.flyte-core.stage=venv",
        "RUN python3 -m venv /opt/flyte",
        f"COPY {WHEELS_DIR}/ /tmp/wheels/",
        "RUN /opt/flyte/bin/python -m pip install --no-cache-dir --no-index --find-links /tmp/wheels "
        "flyte-core flyte-backend-local",
        "",
        f"FROM {BASE}",
        "COPY --from=flyte-venv /opt/flyte /opt/flyte",
        "ENV PATH=/opt/flyte/bin:$PATH VIRTUAL_ENV=/opt/flyte",
        FREEZE,
    ]


def test_default_image_needs_distributions() -> None:
    with pytest.raises(DockerfileError, match="no distributions"):
        render(Image.from_debian_base(), BASE, [])


def test_without_flyte_keeps_a_venv_on_the_default_base() -> None:
    text, _ = render(Image.from_debian_base(install_flyte=False), BASE, [])
    assert text.splitlines() == [f"FROM {BASE}", "RUN python3 -m venv /opt/flyte",
                                 "ENV PATH=/opt/flyte/bin:$PATH VIRTUAL_ENV=/opt/flyte"]


def test_from_base_with_layers_uses_its_own_base_and_no_venv() -> None:
    image = Image.from_base("custom/python:3.11").clone(name="mine").with_pip_packages("requests")
    text, _ = render(image, BASE, [])
    assert text.splitlines() == ["FROM custom/python:3.11", "RUN python3 -m pip install --no-cache-dir requests"]


def test_pip() -> None:
    image = Image.from_debian_base().with_pip_packages(
        "numpy<3", "pandas", index_url="https://idx/simple", extra_index_urls=["https://a", "https://b"],
        pre=True, extra_args="--no-deps",
    )
    assert lines_after_preamble(image) == [
        "RUN python3 -m pip install --no-cache-dir --index-url https://idx/simple --extra-index-url https://a "
        "--extra-index-url https://b --pre --no-deps 'numpy<3' pandas"
    ]


def test_apt() -> None:
    assert lines_after_preamble(Image.from_debian_base().with_apt_packages("git", "curl")) == [
        "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git curl "
        "&& rm -rf /var/lib/apt/lists/*"
    ]


def test_requirements(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("requests\n")
    text, files = render(Image.from_debian_base().with_requirements(req, pre=True), BASE, ["flyte-core"])
    assert files == [("layers/0/requirements.txt", req)]
    assert body(text)[-4:] == [
        'COPY ["layers/0/requirements.txt", "/tmp/flyte-layers-0-requirements.txt"]',
        "RUN python3 -m pip install --no-cache-dir --pre -r /tmp/flyte-layers-0-requirements.txt "
        "&& rm -f /tmp/flyte-layers-0-requirements.txt",
        *OWN_LAST,
    ]


def test_env_quotes_values_and_keeps_expansion() -> None:
    image = Image.from_debian_base().with_env_vars({"B": 'say "hi" \\ there', "A": "/x/bin:$PATH"})
    assert lines_after_preamble(image) == ['ENV A="/x/bin:$PATH" B="say \\"hi\\" \\\\ there"']


@pytest.mark.parametrize(("env", "match"), [({"BAD-NAME": "x"}, "not a valid"), ({"A": "x\ny"}, "newline")])
def test_env_rejects(env: dict[str, str], match: str) -> None:
    with pytest.raises(DockerfileError, match=match):
        render(Image.from_debian_base().with_env_vars(env), BASE, ["flyte-core"])


def test_commands_each_a_run_and_scripts_in_exec_form() -> None:
    image = Image.from_debian_base().with_commands(["echo one", "echo two && echo three", "set -e\necho four"])
    assert lines_after_preamble(image) == [
        "RUN echo one", "RUN echo two && echo three", 'RUN ["/bin/sh", "-c", "set -e\\necho four"]',
    ]


def test_workdir() -> None:
    assert lines_after_preamble(Image.from_debian_base().with_workdir("/app")) == ["WORKDIR /app"]


def test_copy_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.py", tmp_path / "b b.py"
    a.write_text("a")
    b.write_text("b")
    text, files = render(Image.from_debian_base().with_source_file([a, b], dst="/app"), BASE, ["flyte-core"])
    assert files == [("layers/0/a.py", a), ("layers/0/b b.py", b)]
    assert body(text)[-1] == 'COPY ["layers/0/a.py", "layers/0/b b.py", "/app/"]'
    text, _ = render(Image.from_debian_base().with_source_file(a, dst="/app/main.py"), BASE, ["flyte-core"])
    assert body(text)[-1] == 'COPY ["layers/0/a.py", "/app/main.py"]'


def test_copy_dir_with_dockerignore(tmp_path: Path) -> None:
    src = tmp_path / "proj"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "mod.py").write_text("x")
    (src / "data.csv").write_text("x")
    (src / "notes.log").write_text("x")
    ignore = tmp_path / ".dockerignore"
    ignore.write_text("# comment\n*.log\n\n")
    image = Image.from_debian_base().with_dockerignore(ignore).with_source_folder(src, dst="/srv")
    text, files = render(image, BASE, ["flyte-core"])
    assert files == [("layers/1/data.csv", src / "data.csv"), ("layers/1/pkg/mod.py", src / "pkg" / "mod.py")]
    assert body(text)[-1] == 'COPY ["layers/1/", "/srv/proj/"]'
    contents = Image.from_debian_base().with_source_folder(src, dst="/srv", copy_contents_only=True)
    assert body(render(contents, BASE, ["flyte-core"])[0])[-1] == 'COPY ["layers/0/", "/srv/"]'


def test_copy_dir_empty_makes_the_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    image = Image.from_debian_base().with_source_folder(tmp_path / "empty", dst="/srv", copy_contents_only=True)
    assert lines_after_preamble(image) == ["RUN mkdir -p /srv"]


def test_uv_project(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\nversion = "0"\ndependencies = ["httpx>=0.27", "rich"]\n')
    assert lines_after_preamble(Image.from_debian_base().with_uv_project(pyproject)) == [
        "RUN python3 -m pip install --no-cache-dir 'httpx>=0.27' rich"
    ]
    lock = tmp_path / "uv.lock"
    lock.write_text("version = 1\n")
    text, files = render(Image.from_debian_base().with_uv_project(pyproject, uvlock=lock), BASE, ["flyte-core"])
    assert files == [("layers/0/pyproject.toml", pyproject), ("layers/0/uv.lock", lock)]
    assert "uv export --frozen" in body(text)[-3]


def test_from_dockerfile_is_its_own_text_and_folder(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (tmp_path / "keep.txt").write_text("k")
    (tmp_path / "skip.txt").write_text("s")
    (tmp_path / ".dockerignore").write_text("skip.txt\nDockerfile\n")
    text, files = render(Image.from_dockerfile(tmp_path / "Dockerfile", None, "x"), BASE, [])
    assert text == "FROM scratch\nCOPY . /\n"
    assert [name for name, _ in files] == [".dockerignore", "Dockerfile", "keep.txt"]


def test_unknown_layer_and_unresolved_ref() -> None:
    image = Image.from_debian_base().clone(addl_layer=Layer("conda", {}))
    with pytest.raises(DockerfileError, match="'conda' is not supported"):
        render(image, BASE, ["flyte-core"])
    with pytest.raises(DockerfileError, match="must be resolved"):
        render(Image.from_ref_name("gpu").clone(name="x").with_workdir("/"), BASE, [])


def test_missing_files_are_named(tmp_path: Path) -> None:
    image = Image.from_debian_base().with_source_folder(tmp_path / "nope")
    with pytest.raises(DockerfileError, match="nope is not a folder"):
        render(image, BASE, ["flyte-core"])


# --- Flyte 2 layers, own wheels last, secret steps ---------------------------------------------------


def test_own_wheels_are_reinstalled_last_only_after_installing_layers() -> None:
    text, _ = render(Image.from_debian_base().with_pip_packages("unionai-reuse"), BASE,
                     ["flyte-core", "flyte-backend-docker", "s3fs"], ["flyte-core", "flyte-backend-docker"])
    assert body(text)[-2:] == [
        "COPY --from=flyte-venv /tmp/wheels/flyte_core-*.whl /tmp/wheels/flyte_backend_docker-*.whl "
        "/tmp/flyte-own-wheels/",
        OWN_LAST[1],
    ]
    for image in (Image.from_debian_base().with_apt_packages("git").with_env_vars({"A": "1"}),
                  Image.from_debian_base(install_flyte=False).with_pip_packages("six")):
        text, _ = render(image, BASE, ["flyte-core"] if image.install_flyte else [])
        assert "flyte-own-wheels" not in text


def test_uv_script_installs_its_dependencies_but_not_flyte(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "pyproject.toml").write_text("[project]\nname='lib'\nversion='1'\n")
    script = tmp_path / "job.py"
    script.write_text(f'# /// script\n# dependencies = ["polars>=1", "Flyte>=2", "lib @ file://{lib}"]\n# ///\n')
    image = Image.from_uv_script(script, name="job", pre=True)
    _text, files = render(image, BASE, ["flyte-core"])
    assert lines_after_preamble(image) == [
        "COPY layers/0/local-2/ /tmp/flyte-layers-0-local-2/",
        "RUN python3 -m pip install --no-cache-dir --pre 'polars>=1' /tmp/flyte-layers-0-local-2 "
        "&& rm -rf /tmp/flyte-layers-0-local-2",
    ]
    assert files == [("layers/0/local-2/pyproject.toml", lib / "pyproject.toml")]


def test_uv_script_without_a_block_or_file(tmp_path: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text("print(1)\n")
    assert lines_after_preamble(Image.from_uv_script(script, name="job")) == []
    with pytest.raises(DockerfileError, match="from_uv_script"):
        render(Image.from_uv_script(tmp_path / "gone.py", name="job"), BASE, ["flyte-core"])


def test_uv_project_install_project_copies_the_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\nversion='0'\n")
    (tmp_path / "x.py").write_text("")
    image = Image.from_debian_base().with_uv_project(
        tmp_path / "pyproject.toml", project_install_mode="install_project", extra_index_urls=["https://e"])
    _text, files = render(image, BASE, ["flyte-core"])
    assert sorted(name for name, _ in files) == ["layers/0/pyproject.toml", "layers/0/x.py"]
    assert lines_after_preamble(image) == [
        "COPY layers/0/ /tmp/flyte-layers-0/",
        "RUN python3 -m pip install --no-cache-dir --extra-index-url https://e /tmp/flyte-layers-0 "
        "&& rm -rf /tmp/flyte-layers-0",
    ]


def test_poetry_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\nname='x'\n")
    (tmp_path / "poetry.lock").write_text("# lock\n")
    image = Image.from_debian_base().with_poetry_project(tmp_path / "pyproject.toml", extra_args="--only main")
    _text, files = render(image, BASE, ["flyte-core"])
    assert [name for name, _ in files] == ["layers/0/pyproject.toml", "layers/0/poetry.lock"]
    copy, run = lines_after_preamble(image)
    assert copy == "COPY layers/0/ /tmp/flyte-layers-0/"
    assert "poetry install --no-interaction --only main --no-root" in run and "rm -rf /tmp/flyte-poetry" in run


def test_pixi_is_refused_with_a_way_out(tmp_path: Path) -> None:
    (tmp_path / "pixi.toml").write_text("[workspace]\n")
    with pytest.raises(DockerfileError, match=r"pixi workspace .*from_dockerfile"):
        render(Image.from_debian_base().with_pixi_project(tmp_path / "pixi.toml"), BASE, ["flyte-core"])


def test_python_wheels(tmp_path: Path) -> None:
    from flyte._image import DIST_FOLDER, PythonWheels

    own = Image.from_debian_base().clone(addl_layer=PythonWheels(wheel_dir=DIST_FOLDER, package_name="flyte"))
    assert lines_after_preamble(own) == []
    (tmp_path / "mine-1.0-py3-none-any.whl").write_bytes(b"zip")
    image = Image.from_debian_base().clone(addl_layer=PythonWheels(wheel_dir=tmp_path, package_name="mine"))
    assert lines_after_preamble(image) == [
        "COPY layers/0/ /tmp/flyte-layers-0/",
        "RUN python3 -m pip install --no-cache-dir --find-links /tmp/flyte-layers-0 mine && rm -rf /tmp/flyte-layers-0",
    ]


def test_code_bundle(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("")
    (root / "data.csv").write_text("a\n")
    (root / ".dockerignore").write_text("*.csv\n")
    image = (Image.from_debian_base().with_dockerignore(root / ".dockerignore")
             .with_code_bundle(copy_style="all", dst="/app"))
    text, files = render(image, BASE, ["flyte-core"], code_root=root)
    assert sorted(name for name, _ in files) == ["layers/1/.dockerignore", "layers/1/pkg/mod.py"]
    assert body(text)[-1] == 'COPY ["layers/1/", "/app/"]'
    # loaded_modules: only files of modules imported from the root (none here).
    text, files = render(Image.from_debian_base().with_code_bundle(), BASE, ["flyte-core"], code_root=root)
    assert files == [] and body(text)[-1] == "RUN mkdir -p ."


def test_secret_layers_split_the_build() -> None:
    from flyte_backend_docker.dockerfile import PREVIOUS, SecretStep, Segment, render_plan

    from flyte_core.extend import Secret

    image = (Image.from_debian_base().with_env_vars({"A": "1"})
             .with_pip_packages("private", secret_mounts="gh-token").with_workdir("/srv"))
    plan = render_plan(image, BASE, ["flyte-core"])
    assert [type(s).__name__ for s in plan] == ["Segment", "SecretStep", "Segment"]
    first, step, last = plan
    assert isinstance(first, Segment) and first.text.splitlines()[-1] == 'ENV A="1"'
    assert step == SecretStep("python3 -m pip install --no-cache-dir private", (Secret(key="gh-token"),))
    assert isinstance(last, Segment)
    # The last segment reinstalls our wheels, so it carries the venv stage again (a cache hit).
    lines = body(last.text)
    assert lines[0] == f"FROM {BASE} AS flyte-venv" and f"FROM {PREVIOUS}" in lines
    assert lines[lines.index(f"FROM {PREVIOUS}") + 1:] == ["WORKDIR /srv", *OWN_LAST]
    with pytest.raises(DockerfileError, match="render_plan"):
        render(image, BASE, ["flyte-core"])
