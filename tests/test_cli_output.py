"""What a new user sees from the command line: the failing task named, one outcome line, tables that
fit the terminal, empty results said in words, and the package to install for a missing plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TASKS = '''
import flyte

first_hour = flyte.TaskEnvironment(name="first_hour")
kept = flyte.TaskEnvironment(name="kept", cache="auto")


@first_hour.task
def boom(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative {x}")
    return x


@first_hour.task
def outer(x: int) -> int:
    return boom(x) + 1


@first_hour.task
def process_numbers(values: list[int]) -> int:
    return sum(values)


@kept.task
def square(x: int) -> int:
    return x * x
'''


def flyte(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **env}, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "wf.py").write_text(TASKS)
    return tmp_path


@pytest.mark.parametrize("backend", ["local", "local-process"])
@pytest.mark.parametrize("progress", [True, False])
def test_a_failure_names_the_task_that_failed(project: Path, backend: str, progress: bool) -> None:
    args = ["run", "--backend", backend, *([] if progress else ["--no-progress"]), "wf.py", "outer", "--x", "-1"]
    r = flyte(project, *args)
    assert r.returncode == 1
    assert "Task 'first_hour.boom' (action a0.1) failed: ValueError: negative -1" in r.stderr, r.stderr
    assert "Task 'first_hour.outer'" not in r.stderr


def test_one_outcome_line_when_output_is_not_a_terminal(project: Path) -> None:
    ok = flyte(project, "run", "wf.py", "outer", "--x", "2")
    assert ok.returncode == 0 and ok.stdout == "3\n"
    outcome = [line for line in ok.stderr.splitlines() if line.startswith("✓") and "run" in line.lower()]
    assert len(outcome) == 1, ok.stderr
    failed = flyte(project, "run", "wf.py", "outer", "--x", "-1")
    assert sum(line.lower().startswith("✗ run") for line in failed.stderr.splitlines()) == 1, failed.stderr
    quiet = flyte(project, "run", "--no-progress", "wf.py", "outer", "--x", "2")
    assert quiet.stderr.count("succeeded") == 1, quiet.stderr


def test_a_missing_plugin_command_names_its_package(project: Path) -> None:
    r = flyte(project, "ui", FLYTE_BLOCK_PLUGINS="ui")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "flyte-ui" in r.stderr and "pip install -e plugins/ui" in r.stderr, r.stderr


def test_a_missing_backend_names_its_package(project: Path) -> None:
    r = flyte(project, "run", "--backend", "docker", "wf.py", "outer", "--x", "1", FLYTE_BLOCK_PLUGINS="docker")
    assert r.returncode == 2
    assert "No backend named 'docker'" in r.stderr and "flyte-backend-docker" in r.stderr, r.stderr
    assert "pip install -e backends/docker" in r.stderr


def test_tables_fit_80_columns_and_show_more_on_wider_terminals(project: Path) -> None:
    assert flyte(project, "run", "wf.py", "process_numbers", "--values", "[1, 2, 3]").returncode == 0
    assert flyte(project, "run", "--backend", "local-process", "wf.py", "square", "--x", "3").returncode == 0
    for args, whole in [(("runs", "list"), ["first_hour.process_numbers", "kept.square", "succeeded"]),
                        (("plugins",), ["flyte_core.types.builtins", "backend:local-process"]),
                        (("cache", "list"), ["kept.square"])]:
        narrow = flyte(project, *args, COLUMNS="80")
        assert narrow.returncode == 0, narrow.stderr
        lines = narrow.stdout.splitlines()
        assert lines and max(len(line.rstrip()) for line in lines) <= 80, narrow.stdout
        for text in whole:
            assert text in narrow.stdout, (args, text, narrow.stdout)  # not cut or wrapped
        wide = flyte(project, *args, COLUMNS="200")
        assert len(wide.stdout.splitlines()[0].split()) > len(lines[0].split()), (narrow.stdout, wide.stdout)
    dates = flyte(project, "runs", "list", COLUMNS="80").stdout
    assert all(len(line.split()[4]) == 10 and ":" in line.split()[5] for line in dates.splitlines()[2:] if line), dates
    assert "local-process" in flyte(project, "runs", "list", COLUMNS="200").stdout


def test_empty_results_say_so(project: Path) -> None:
    assert flyte(project, "cache", "list").stderr == "no cache entries\n"
    assert flyte(project, "runs", "list").stderr == "no runs yet\n"
    assert flyte(project, "run", "--name", "quiet", "wf.py", "boom", "--x", "1").returncode == 0
    r = flyte(project, "runs", "logs", "quiet")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "no logs for run quiet\n"


def complete(cwd: Path, line: str) -> list[str]:
    """What bash completion offers for the last word of ``line`` (click's protocol)."""
    words = line.split(" ")
    r = flyte(cwd, COMP_WORDS=line, COMP_CWORD=str(len(words) - 1), _FLYTE_COMPLETE="bash_complete")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return [item.partition(",")[2] for item in r.stdout.splitlines()]


def test_shell_completion_offers_task_names_inputs_and_run_names(project: Path) -> None:
    assert complete(project, "flyte run wf.py ") == ["boom", "outer", "process_numbers", "square"]
    assert complete(project, "flyte run wf.py pro") == ["process_numbers"]
    assert "--x" in complete(project, "flyte run wf.py outer --")
    assert complete(project, "flyte run missing.py ") == [""]  # the shell lists files; no error printed
    assert flyte(project, "run", "--name", "alpha-1", "wf.py", "boom", "--x", "1").returncode == 0
    assert flyte(project, "run", "--name", "alpha-2", "wf.py", "boom", "--x", "2").returncode == 0
    assert flyte(project, "run", "--name", "beta", "wf.py", "boom", "--x", "3").returncode == 0
    assert complete(project, "flyte runs show al") == ["alpha-2", "alpha-1"]
    assert complete(project, "flyte runs logs b") == ["beta"]
    assert complete(project, "flyte run --recover alpha-") == ["alpha-2", "alpha-1"]
