"""flyte.extras.ContainerTask: file staging and parsing (no engine), then real containers of the offline
base image on the local, local-process and docker backends and outside a run."""

from __future__ import annotations

import asyncio
import datetime
import json
import sys
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml
from flyte_containertask import ContainerTaskError
from flyte_containertask.staging import read_outputs, render, stage_inputs

import flyte
import flyte.extras
from flyte.io import File
from flyte_core.extend import RuntimeUserError, Session

sys.path.insert(0, str(Path(__file__).parent))
import ct_tasks


def test_command_templates_and_input_files(tmp_path: Path) -> None:
    src = tmp_path / "src.txt"
    src.write_text("payload")
    values = {"n": 3, "flag": False, "doc": File.from_local_sync(src), "when": datetime.datetime(2026, 1, 2, 3, 4)}
    paths = stage_inputs(values, tmp_path / "in", "/var/inputs", "JSON", named_dir=False)
    assert (tmp_path / "in" / "n").read_text() == "3" and (tmp_path / "in" / "flag").read_text() == "false"
    assert (tmp_path / "in" / "doc").read_text() == "payload"
    assert json.loads((tmp_path / "in" / "inputs.json").read_text()) == {
        "n": 3, "flag": False, "doc": "/var/inputs/doc", "when": "2026-01-02T03:04:00"}
    assert render(["echo", "{{.inputs.n}} {{ .inputs.flag }}", "{{.inputs.doc}}"], values, paths, "t") == [
        "echo", "3 false", "/var/inputs/doc"]
    with pytest.raises(ValueError, match=r"ContainerTask 't': the command refers to \{\{.inputs.nope\}\}"):
        render(["{{.inputs.nope}}"], values, paths, "t")

    named = stage_inputs({"docs": [File.from_local_sync(src), File.from_local_sync(src)]}, tmp_path / "nd",
                         "/var/inputs", "YAML", named_dir=True)
    assert sorted(p.name for p in (tmp_path / "nd" / "docs").iterdir()) == ["1_src.txt", "src.txt"]
    assert yaml.safe_load((tmp_path / "nd" / "inputs.yaml").read_text()) == {"docs": named["docs"]}


def test_outputs_are_parsed_by_their_declared_type(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name, text in {"i": "42\n", "f": "2.5", "b": "False", "s": "hi\n", "d": "2026-01-02T03:04:05",
                       "t": "1 day, 2:03:04"}.items():
        (out / name).write_text(text)
    types = {"i": int, "f": float, "b": bool, "s": str, "d": datetime.datetime, "t": datetime.timedelta}
    assert read_outputs(types, out, "t") == (42, 2.5, False, "hi\n", datetime.datetime(2026, 1, 2, 3, 4, 5),
                                              datetime.timedelta(days=1, hours=2, minutes=3, seconds=4))
    with pytest.raises(ValueError, match="ContainerTask 't' wrote no output 'missing'"):
        read_outputs({"missing": int}, out, "t")
    with pytest.raises(ValueError, match="output 's' holds 'hi\\\\n', which is not a int"):
        read_outputs({"s": int}, out, "t")


def test_constructor_checks_match_flyte2() -> None:
    assert flyte.extras.ContainerTask is ct_tasks.ContainerTask
    with pytest.raises(ValueError, match="must be strings"):
        flyte.extras.ContainerTask(name="x", image="alpine", command=["echo", 1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        flyte.extras.ContainerTask(name="x", image="alpine", command=["true"], colour="red")
    layered = flyte.extras.ContainerTask(name="y", image=flyte.Image.from_debian_base().with_pip_packages("six"),
                                         command=["true"])
    with pytest.raises(ValueError, match="ContainerTask 'y' needs a ready image"):
        layered.container_call({}, "/tmp/unused")
    assert ct_tasks.count_words.name == "count_words" and ct_tasks.count_words.env.name == "container_env"


def test_auto_cache_version_follows_what_the_container_runs() -> None:
    def make(cmd: str, **kw: Any) -> flyte.extras.ContainerTask:
        return flyte.extras.ContainerTask(name="c", image="alpine:3.19", command=["sh", "-c", cmd], **kw)

    a, b = make("echo 1", cache="auto"), make("echo 2", cache="auto")
    assert a.cache.version_override and a.cache.version_override != b.cache.version_override
    assert make("echo 1", cache="auto").cache.version_override == a.cache.version_override
    assert make("echo 1", cache=flyte.Cache("auto", version_override="v1")).cache.version_override == "v1"
    assert make("echo 1").override(cache="auto").cache.version_override == a.cache.version_override


@pytest.mark.parametrize("backend", ["local", "local-process"])
def test_container_task_runs_through_the_docker_engine(docker_client: docker.DockerClient, tmp_path: Path,
                                                       backend: str) -> None:
    s = Session(backend=backend, data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                root_dir=Path(ct_tasks.__file__).parent)
    try:
        run = s.run(ct_tasks.pipeline, "cat dog cat", "cat")
        assert run.outputs()[0] == (2, "CAT DOG CAT", "cat=4")
        logs = [log.line for log in run.logs()]
        assert "shout=true" in logs  # what the container printed is the task's output
    finally:
        s.close()
    # Only this run's containers: other work on the engine may run container tasks meanwhile.
    assert not docker_client.containers.list(all=True, filters={"label": f"flyte.run={run.name}"})


def test_container_task_on_the_docker_backend(docker_client: docker.DockerClient, tmp_path: Path) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("a cat and a cat")
    s = Session(backend="docker", data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                root_dir=Path(ct_tasks.__file__).parent)
    try:
        run = s.run(ct_tasks.count_words, doc=File.from_local_sync(doc), word="cat", shout=False)
        n, shouted = run.outputs()[0]
        assert n == 2 and shouted.download_sync(tmp_path / "back.txt") and (tmp_path / "back.txt").read_text() \
            == "a cat and a cat"
        assert "shout=false" in [log.line for log in run.logs()]
        with pytest.raises(RuntimeUserError, match=r"ContainerTask 'fails'.*exited with code 3(.|\n)*broken"):
            s.run(ct_tasks.fails)
    finally:
        s.close()
    assert not docker_client.containers.list(all=True, filters={"label": f"flyte.run={run.name}"})


def test_called_outside_a_run_it_runs_the_container(docker_client: docker.DockerClient) -> None:
    assert asyncio.run(ct_tasks.describe(n=5, label="x")) == "x=10"


def test_without_an_engine_the_error_names_the_task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with pytest.raises(ContainerTaskError, match=r"Task 'describe' is a ContainerTask.*none is reachable"):
        asyncio.run(ct_tasks.describe(n=1, label="x"))
    flyte.init(backend="local", storage=str(tmp_path / "data"))
    with pytest.raises(RuntimeUserError, match=r"Task 'describe' is a ContainerTask.*Start Docker or set DOCKER_HOST"):
        flyte.run(ct_tasks.describe, n=1, label="x")
