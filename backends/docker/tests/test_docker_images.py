"""ImageBuilder against the real engine: the default image, reuse, layers, failures, single flight."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import docker
import pytest
from flyte_backend_docker.images import LABEL, ImageBuilder, ImageBuildError, default_base_image

from flyte_core.extend import FlyteUsageError, Image

# The first build of the default image builds the wheelhouse and installs it: up to a minute or two.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def run(client: docker.DockerClient, tag: str, *cmd: str, **kw: object) -> str:
    """stdout of ``cmd`` in a throwaway container without network (everything must be baked in)."""
    out: bytes = client.containers.run(tag, list(cmd), remove=True, network_disabled=True, **kw)
    return out.decode().strip()


def fresh_builder(like: ImageBuilder, lines: list[str]) -> ImageBuilder:
    """A builder like ``like`` (same engine, base, cache) with empty in-memory state, recording its log."""
    return ImageBuilder(like.client, base_image=like.base_image, cache_dir=like.cache_dir, log=lines.append)


def test_default_image_runs_flyte_offline(docker_client: docker.DockerClient, default_image: str) -> None:
    assert default_image.startswith("flyte:")
    out = run(docker_client, default_image, "python", "-c",
              "import flyte, flyte_core, sys; print(flyte_core.__version__, sys.prefix)")
    assert out == "0.1.0 /opt/flyte"
    labels = docker_client.images.get(default_image).labels
    assert labels[LABEL] == "docker"


def test_default_image_has_no_wheels_layer(docker_client: docker.DockerClient, default_image: str) -> None:
    # The wheels live only in the venv stage, never in the final image's layers.
    out = run(docker_client, default_image, "sh", "-c", "ls /tmp/wheels 2>&1 || true")
    assert "No such file" in out


def test_unchanged_spec_is_not_rebuilt(builder: ImageBuilder, default_image: str) -> None:
    lines: list[str] = []
    started = time.monotonic()
    tag = fresh_builder(builder, lines).ensure(Image.from_debian_base())
    assert tag == default_image
    assert lines == [], "a cached image produced build output"
    assert time.monotonic() - started < 10


def test_same_builder_answers_from_memory(builder: ImageBuilder, default_image: str) -> None:
    started = time.monotonic()
    assert builder.ensure(Image.from_debian_base()) == default_image
    assert time.monotonic() - started < 0.5


def test_env_commands_workdir(docker_client: docker.DockerClient, builder: ImageBuilder, default_image: str,
                              made_images: list[str]) -> None:
    image = (Image.from_debian_base(name="flyte-test-layers")
             .with_env_vars({"GREETING": 'hello "docker" world', "EXTRA_PATH": "/srv/app/bin:$PATH"})
             .with_commands(["mkdir -p /srv/app", "echo built > /srv/app/marker"])
             .with_workdir("/srv/app"))
    tag = builder.ensure(image)
    made_images.append(tag)
    assert tag.startswith("flyte-test-layers:")
    out = run(docker_client, tag, "python", "-c",
              "import os; print(os.environ['GREETING']); print(os.getcwd()); print(open('marker').read().strip());"
              "print(os.environ['EXTRA_PATH'].startswith('/srv/app/bin:/opt/flyte/bin'))")
    assert out.splitlines() == ['hello "docker" world', "/srv/app", "built", "True"]


def test_failing_command_reports_step_and_log(builder: ImageBuilder, docker_client: docker.DockerClient,
                                              default_image: str) -> None:
    image = Image.from_debian_base(name="flyte-test-fail").with_commands(["echo about-to-fail", "false"])
    with pytest.raises(ImageBuildError) as info:
        builder.ensure(image)
    message = str(info.value)
    assert isinstance(info.value, FlyteUsageError)
    assert "flyte-test-fail:" in message
    assert "RUN false" in message  # the failing step
    assert "non-zero code" in message  # the engine's error
    assert "about-to-fail" in message  # the log tail
    assert not docker_client.images.list(name="flyte-test-fail")


def test_concurrent_ensures_build_once(builder: ImageBuilder, default_image: str, made_images: list[str]) -> None:
    lines: list[str] = []
    b = fresh_builder(builder, lines)
    image = Image.from_debian_base(name="flyte-test-flight").with_env_vars({"NONCE": uuid.uuid4().hex})
    tags: list[str] = []
    threads = [threading.Thread(target=lambda: tags.append(b.ensure(image))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    made_images.append(tags[0])
    assert len(set(tags)) == 1 and len(tags) == 4
    assert sum(line.startswith("Building image") for line in lines) == 1


def test_from_base_is_used_as_is(builder: ImageBuilder, docker_client: docker.DockerClient, base_image: str) -> None:
    before = len(docker_client.images.list())
    assert builder.ensure(Image.from_base(base_image)) == base_image
    assert len(docker_client.images.list()) == before


def test_from_base_missing_image_is_a_clear_error(builder: ImageBuilder) -> None:
    with pytest.raises(ImageBuildError, match="not on this Docker engine"):
        builder.ensure(Image.from_base("flyte-test/does-not-exist:0"))


def test_from_dockerfile_uses_its_folder_and_dockerignore(docker_client: docker.DockerClient, builder: ImageBuilder,
                                                          base_image: str, tmp_path: Path,
                                                          made_images: list[str]) -> None:
    (tmp_path / "Dockerfile").write_text(f"FROM {base_image}\nCOPY . /ctx/\n")
    (tmp_path / "hello.txt").write_text("hi\n")
    (tmp_path / "secret.txt").write_text("no\n")
    (tmp_path / ".dockerignore").write_text("secret.txt\n")
    spec = Image.from_dockerfile(tmp_path / "Dockerfile", registry=None, name="flyte-test-dockerfile")
    tag = builder.ensure(spec)
    made_images.append(tag)
    assert run(docker_client, tag, "ls", "/ctx").split() == ["Dockerfile", "hello.txt"]
    # Editing a context file changes the tag (the context content is hashed).
    (tmp_path / "hello.txt").write_text("hello again\n")
    tag2 = fresh_builder(builder, []).ensure(spec)
    made_images.append(tag2)
    assert tag2 != tag
    assert run(docker_client, tag2, "cat", "/ctx/hello.txt") == "hello again"


def test_python_mismatch_names_both_versions(builder: ImageBuilder) -> None:
    image = Image.from_debian_base(install_flyte=False, python_version=(3, 10))
    with pytest.raises(ImageBuildError, match=r"Python 3\.11.*Python 3\.10"):
        builder.ensure(image)


def test_base_image_resolution(docker_client: docker.DockerClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_DOCKER_BASE_IMAGE", "from-env:1")
    assert ImageBuilder(docker_client, "explicit:1").base_image == "explicit:1"
    assert ImageBuilder(docker_client).base_image == "from-env:1"
    monkeypatch.delenv("FLYTE_DOCKER_BASE_IMAGE")
    b = ImageBuilder(docker_client)
    assert b.base_for(Image.from_debian_base(python_version=(3, 12))) == "python:3.12-slim-bookworm"
    assert default_base_image((3, 11)) == "python:3.11-slim-bookworm"


def test_invalid_name_is_a_clear_error(builder: ImageBuilder, default_image: str) -> None:
    with pytest.raises(ImageBuildError, match="not a valid Docker repository name"):
        builder.ensure(Image.from_debian_base(name="Not Valid"))
