"""flyte.extras.shell: scripts checked when the task is made; real containers of the offline base image
running every input kind, flag mode and output kind on the local, local-process and docker backends."""

from __future__ import annotations

import sys
from pathlib import Path

import docker
import pytest
from flyte_containertask.engine import TASK_LABEL
from flyte_containertask.shell import ShellTask

import flyte.extras
from flyte.extras.shell import FlagSpec, Glob, Stderr, Stdout, create
from flyte.io import File
from flyte_core.extend import RuntimeUserError, Session

sys.path.insert(0, str(Path(__file__).parent))
import shell_tasks

EXPECTED_FLAGS = "[-verbose]\n[--label]\n[it's $HOME `x`]\n[-p]\n[/var/inputs/parts/a.fa]\n[-p]\n" \
                 "[/var/inputs/parts/b.fa]\n[--min=2]\n[--mode=fast]\n[-n]\n[3]\n"


def test_mistakes_are_reported_when_the_task_is_made() -> None:
    assert flyte.extras.shell.create is create and isinstance(shell_tasks.summarize, ShellTask)
    with pytest.raises(ValueError, match=r"Shell task 's': the script refers to \{inputs.nope\}, but"):
        create("s", image="img", inputs={"x": int}, script="echo {inputs.nope}")
    with pytest.raises(ValueError, match=r"output 'log' captures a stream"):
        create("s", image="img", outputs={"log": Stderr()}, script="echo > {outputs.log}")
    with pytest.raises(TypeError, match=r"input 'x' has type list\[int\]; a shell task takes File"):
        create("s", image="img", inputs={"x": list[int]}, script="true")
    with pytest.raises(TypeError, match=r"output 'y' is declared as"):
        create("s", image="img", outputs={"y": list}, script="true")
    with pytest.raises(TypeError, match=r"defaults\['x'\] is 'a', not a"):
        create("s", image="img", inputs={"x": int}, defaults={"x": "a"}, script="true")
    with pytest.raises(KeyError, match="flag_aliases names 'z'"):
        create("s", image="img", inputs={"x": int}, flag_aliases={"z": "-z"}, script="true")
    with pytest.raises(TypeError, match=r"Stdout\.type must be"):
        Stdout(type=list)
    with pytest.raises(TypeError, match="mode 'sideways'"):
        FlagSpec.coerce("x", ("-x", "sideways"))
    assert FlagSpec.coerce("x", None) == FlagSpec("-x") and FlagSpec.coerce("x", ("-x", "equals")).dict_mode == "equals"


def test_inputs_are_checked_and_converted_for_the_container() -> None:
    spec = create("conv", image="img", inputs={"a": int | None, "b": bool | None, "d": dict[str, str], "f": File},
                  outputs={"g": Glob()}, script="true").spec
    with pytest.raises(TypeError, match="input 'f' is required"):
        spec.container_inputs({"a": 1, "d": {}})
    with pytest.raises(TypeError, match="unexpected input"):
        spec.container_inputs({"zz": 1})
    f = File.from_existing_remote("/tmp/x")
    assert spec.container_inputs({"b": True, "d": {"k": "v w"}, "f": f}) == {
        "a": "", "b": "true", "d": "k\x1ev w\x1e", "f": f}


@pytest.mark.parametrize("backend", ["local", "local-process"])
def test_shell_tasks_run_in_their_image(docker_client: docker.DockerClient, tmp_path: Path, backend: str) -> None:
    s = Session(backend=backend, data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                root_dir=Path(shell_tasks.__file__).parent)
    try:
        run = s.run(shell_tasks.pipeline, "one\ntwo\nthree\n")
        flags, lines, name, copies = run.outputs()[0]
        # values arrive as single words, whatever they hold: no re-parsing by the shell
        assert flags == EXPECTED_FLAGS
        assert (lines, name, copies) == (3, "doc.txt|it's $HOME `x`|t1", ["a.fa.part", "b.fa.part"])
        with pytest.raises(RuntimeUserError, match=r"shell_fails(.|\n)*code 4(.|\n)*broken"):
            s.run(shell_tasks.fails)
    finally:
        s.close()
    assert not docker_client.containers.list(all=True, filters={"label": TASK_LABEL})
    assert not docker_client.containers.list(all=True, filters={"label": f"flyte.run={run.name}"})


def test_a_shell_task_on_the_docker_backend(docker_client: docker.DockerClient, tmp_path: Path) -> None:
    """The docker backend runs it as a container of its image (run as the root task: no image to build)."""
    doc, part = tmp_path / "doc.txt", tmp_path / "a.fa"
    doc.write_text("x\ny\n")
    part.write_text("A")
    task = shell_tasks.summarize
    inputs = task.spec.container_inputs({"doc": File.from_local_sync(doc), "parts": [File.from_local_sync(part)],
                                         "n": 5, "label": None, "verbose": False, "opts": {}})
    s = Session(backend="docker", data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                root_dir=Path(shell_tasks.__file__).parent)
    try:
        run = s.run(task, **inputs)
        flags, lines, name, copies = run.outputs()[0]
        assert flags.download_sync(tmp_path / "flags") and (tmp_path / "flags").read_text() == \
            "[/var/inputs/parts/a.fa]\n[-n]\n[5]\n".replace("[/var", "[-p]\n[/var")
        assert (lines, name) == (2, "doc.txt||t1")  # an unset optional input is empty, its flag left out
        assert sorted(f.name for f in copies.list_files_sync()) == ["a.fa.part", "skipped.txt"]  # the folder
    finally:
        s.close()
    assert not docker_client.containers.list(all=True, filters={"label": f"flyte.run={run.name}"})


def _run_program(task: ShellTask, inputs: dict[str, object], tmp_path: Path) -> tuple[Path, str]:
    """Stage ``inputs`` as ContainerTask does and run the generated program with this machine's bash."""
    import shutil
    import subprocess

    from flyte_containertask.staging import stage_inputs

    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on this machine")
    in_dir, out_dir = tmp_path / "in", tmp_path / "out"
    out_dir.mkdir(parents=True)
    stage_inputs(task.spec.container_inputs(inputs), in_dir, str(in_dir), "JSON", named_dir=True)
    _, flag, program = task.spec.command(str(in_dir), str(out_dir))
    done = subprocess.run([bash, flag, program], capture_output=True, text=True, check=False)
    return out_dir, f"{done.returncode}|{done.stderr}"


def test_flag_modes_and_unset_inputs(tmp_path: Path) -> None:
    task = create(
        "modes", image="img",
        inputs={"xs": list[File], "kv": dict[str, str], "sep": list[File], "f": File | None, "n": float | None,
                "quiet": bool | None, "d": dict[str, str]},
        outputs={"args": Stdout(type=str), "err": Stderr(type=str)},
        flag_aliases={"xs": ("--x", "comma"), "sep": FlagSpec("--s", separator=":"), "kv": ("", "pairs")},
        defaults={"d": {"k": "a b"}},
        script="printf '<%s>' {flags.xs} {flags.kv} {flags.sep} {flags.f} {flags.n} {flags.quiet} {inputs.d}\n"
               "echo \"f=[{inputs.f}] n=[{inputs.n}]\" >&2",
    )
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("a")
    b.write_text("b")
    files = [File.from_local_sync(a), File.from_local_sync(b)]
    out, status = _run_program(task, {"xs": files, "kv": {"--k": "v 1", "-e": ""}, "sep": files}, tmp_path / "1")
    ins = tmp_path / "1" / "in"
    assert status == "0|"
    assert (out / "args").read_text() == (
        f"<--x><{ins}/xs/a.txt,{ins}/xs/b.txt><--k><v 1><-e><><--s><{ins}/sep/a.txt:{ins}/sep/b.txt><k><a b>")
    assert (out / "err").read_text() == "f=[] n=[]\n"  # unset optionals are empty, their flags left out

    out, _ = _run_program(task, {"xs": [], "kv": {}, "sep": [], "f": files[0], "n": 0.5, "quiet": True,
                                 "d": {}}, tmp_path / "2")
    assert (out / "args").read_text() == f"<-f><{tmp_path}/2/in/f/a.txt><-n><0.5><-quiet>"
