"""Layers beyond the basics, built by the real engine: flyte-core's own packages win over a user
package's ``flyte`` dependency, build secrets stay out of the image, PEP 723 scripts and wheels."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

import docker
import pytest
from flyte_backend_docker.images import ImageBuilder, ImageBuildError

from flyte_core.extend import Image, PythonWheels, Secret

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def run(client: docker.DockerClient, tag: str, *cmd: str) -> str:
    out: bytes = client.containers.run(tag, list(cmd), remove=True, network_disabled=True)
    return out.decode().strip()


def make_wheel(folder: Path, name: str, version: str, files: dict[str, str], requires: list[str] = (),
               scripts: dict[str, str] | None = None) -> Path:
    """A real (pure-Python) wheel: modules, METADATA with its requirements, WHEEL, RECORD."""
    dist = f"{name.replace('-', '_')}-{version}"
    info = f"{dist}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
            *[f"Requires-Dist: {r}" for r in requires]]
    entries = {**files, f"{info}/METADATA": "\n".join(meta) + "\n",
               f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    if scripts:
        lines = "".join(f"{k} = {v}\n" for k, v in scripts.items())
        entries[f"{info}/entry_points.txt"] = "[console_scripts]\n" + lines
    record = []
    for path, text in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    wheel = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in entries.items():
            z.writestr(path, text)
        z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def test_own_flyte_wins_over_a_dependency_on_flyte(docker_client: docker.DockerClient, builder: ImageBuilder,
                                                    default_image: str, made_images: list[str],
                                                    tmp_path: Path) -> None:
    # Another `flyte` distribution (as Flyte 2's is, on PyPI) and a user package that depends on it.
    make_wheel(tmp_path, "flyte", "99.0", {"flyte/__init__.py": "FOREIGN = True\n", "flyte/_foreign.py": ""},
               scripts={"flyte": "flyte:FOREIGN"})
    make_wheel(tmp_path, "uses-flyte", "1.0", {"uses_flyte/__init__.py": "import flyte\n"}, requires=["flyte>=2"])
    image = (Image.from_debian_base(name="flyte-test-foreign")
             .clone(addl_layer=PythonWheels(wheel_dir=tmp_path, package_name="uses-flyte", extra_args="--no-index")))
    tag = builder.ensure(image)
    made_images.append(tag)
    out = run(docker_client, tag, "python", "-c",
              "import importlib.metadata as m, importlib.util as u, flyte, uses_flyte, flyte_core;"
              "print(hasattr(flyte, 'TaskEnvironment'), hasattr(flyte, 'FOREIGN'), u.find_spec('flyte._foreign'));"
              "print(sorted(d.metadata['Name'] for d in m.distributions()"
              " if d.metadata['Name'] in ('flyte', 'uses-flyte')))")
    assert out.splitlines() == ["True False None", "['uses-flyte']"]
    # The `flyte` command is this project's again.
    assert "Usage" in run(docker_client, tag, "flyte", "--help")


def test_build_secrets_reach_the_step_but_not_the_image(docker_client: docker.DockerClient, cache_dir: Path,
                                                        default_image: str, made_images: list[str]) -> None:
    values = {"token": "s3cret-env-value", "pw": "s3cret-file-value"}
    builder = ImageBuilder(docker_client, base_image=default_image_base(docker_client, default_image),
                           cache_dir=cache_dir, secret_value=lambda s: values.get(s.key))
    image = (Image.from_debian_base(name="flyte-test-secrets")
             .with_env_vars({"KEPT": "yes"})
             # The step checks the values by their digests, so the command itself holds no secret.
             .with_commands([f'test "$(printf %s "$TOKEN" | sha256sum | cut -c1-16)" = {digest(values["token"])} && '
                             f'test "$(sha256sum < /etc/flyte/secrets/pw | cut -c1-16)" = {digest(values["pw"])} && '
                             'echo used > /used-secrets'],
                            secret_mounts=[Secret(key="token", as_env_var="TOKEN"),
                                           Secret(key="pw", mount=Path("/etc/flyte/secrets"))])
             .with_workdir("/srv"))
    tag = builder.ensure(image)
    made_images.append(tag)
    out = run(docker_client, tag, "sh", "-c",
              "cat /used-secrets; pwd; echo $KEPT; ls -A /etc/flyte/secrets | wc -l;"
              "grep -rl s3cret- / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev 2>/dev/null | wc -l")
    assert out.splitlines() == ["used", "/srv", "yes", "0", "0"]
    attrs = docker_client.images.get(tag).attrs
    history = docker_client.images.get(tag).history()
    assert "s3cret" not in repr(attrs) and "s3cret" not in repr(history)
    # Tasks still run: the committed step kept the image's environment and our venv first on PATH.
    assert run(docker_client, tag, "python", "-c", "import flyte_core, sys; print(sys.prefix)") == "/opt/flyte"


def test_missing_build_secret_is_named(docker_client: docker.DockerClient, cache_dir: Path, default_image: str) -> None:
    builder = ImageBuilder(docker_client, base_image=default_image_base(docker_client, default_image),
                           cache_dir=cache_dir, secret_value=lambda s: None)
    image = Image.from_debian_base(name="flyte-test-nosecret").with_commands(["true"], secret_mounts="api-key")
    with pytest.raises(ImageBuildError, match=r"build secret 'api-key'.*FLYTE_SECRET_API_KEY"):
        builder.ensure(image)


def test_uv_script_installs_its_dependencies(docker_client: docker.DockerClient, builder: ImageBuilder,
                                             default_image: str, made_images: list[str], tmp_path: Path) -> None:
    lib = tmp_path / "tinylib"
    (lib / "tinylib").mkdir(parents=True)
    (lib / "tinylib" / "__init__.py").write_text("ANSWER = 42\n")
    (lib / "setup.py").write_text("from setuptools import setup\nsetup(name='tinylib', version='1.0', "
                                  "packages=['tinylib'])\n")
    script = tmp_path / "job.py"
    script.write_text("# /// script\n# requires-python = \">=3.11\"\n# dependencies = [\n#   \"flyte\",\n"
                      f"#   \"tinylib @ file://{lib}\",\n# ]\n# ///\nprint('hi')\n")
    image = Image.from_uv_script(script, name="flyte-test-uvscript", extra_args="--no-index --no-build-isolation")
    tag = builder.ensure(image)
    made_images.append(tag)
    out = run(docker_client, tag, "python", "-c", "import tinylib, flyte; print(tinylib.ANSWER, flyte.TaskEnvironment)")
    assert out.startswith("42 <class 'flyte_core")


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def default_image_base(client: docker.DockerClient, default_image: str) -> str:
    """The base the session's builder uses (the offline test base image)."""
    from conftest import BASE_IMAGE

    return BASE_IMAGE
