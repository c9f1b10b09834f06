"""A file with one untyped task stays usable from the command line: only that task is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TASKS = '''
import flyte

env = flyte.TaskEnvironment(name="mixed")


@env.task
def helper(x, y: int) -> int:
    return y


@env.task
def double(x: int) -> int:
    return 2 * x


@env.task
def shout(text: str):
    print(text.upper())
'''


def flyte(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)


def test_other_tasks_of_a_file_with_an_untyped_task_run(tmp_path: Path) -> None:
    (tmp_path / "mixed.py").write_text(TASKS)
    r = flyte(tmp_path, "run", "mixed.py", "double", "--x", "21")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "42"
    r = flyte(tmp_path, "run", "mixed.py", "double", "--help")
    assert r.returncode == 0 and "--x INTEGER" in r.stdout


def test_the_untyped_task_is_refused_naming_the_parameter(tmp_path: Path) -> None:
    (tmp_path / "mixed.py").write_text(TASKS)
    r = flyte(tmp_path, "run", "mixed.py", "helper", "--y", "1")
    assert r.returncode == 2
    assert "Task 'mixed.helper': parameter 'x' has no type hint" in r.stderr


def test_a_task_without_return_annotation_runs_with_no_outputs(tmp_path: Path) -> None:
    (tmp_path / "mixed.py").write_text(TASKS)
    r = flyte(tmp_path, "run", "--no-progress", "mixed.py", "shout", "--text", "hi")
    assert r.returncode == 0, r.stderr
    assert "HI" in r.stderr and r.stdout == ""  # task prints go to stderr; no outputs, nothing on stdout


def test_a_plugin_name_without_its_plugin_says_which_package_to_install() -> None:
    code = ("import sys; sys.modules['flyte_apps'] = None\nimport flyte\ntry:\n    flyte.serve\n"
            "except ImportError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "flyte.serve comes from the flyte-apps plugin" in r.stdout and "pip install -e plugins/apps" in r.stdout
