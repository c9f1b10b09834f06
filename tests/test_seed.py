"""The seed's examples (seed/tasks.md), exactly as the page shows them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import flyte

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "tasks.py"


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_direct_call_is_a_plain_function_call() -> None:
    from tests import seed_tasks as t

    assert t.greet("World") == "Hello, World!"
    assert t.pipeline(3) == 16
    assert t.process_numbers([1, 2, 3]) == 6


def test_flyte_run_returns_a_run_that_prints_the_result(capsys) -> None:
    from tests import seed_tasks as t

    flyte.init_from_config()
    result = flyte.run(t.greet, name="World")
    print(result)
    assert capsys.readouterr().out == "Hello, World!\n"
    assert result.phase == flyte.ActionPhase.SUCCEEDED
    assert result.outputs()[0] == "Hello, World!"
    assert result.outputs().o0 == "Hello, World!"
    assert result.name.startswith("r")
    assert result.name in result.url
    assert result.wait() is result


def test_pipeline_becomes_an_action_tree() -> None:
    from tests import seed_tasks as t

    flyte.init()
    run = flyte.run(t.pipeline, x=3)
    assert str(run) == "16"
    tree = [(a.action, a.parent, a.task, a.phase.value) for a in run.actions()]
    assert tree == [
        ("a0", None, "my_env.pipeline", "succeeded"),
        ("a0.1", "a0", "my_env.step_one", "succeeded"),
        ("a0.2", "a0", "my_env.step_two", "succeeded"),
    ]


def test_cli_greet_prints_hello_world() -> None:
    r = _cli("run", str(EXAMPLES), "greet", "--name", "World")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Hello, World!\n"


def test_cli_pipeline_prints_16() -> None:
    r = _cli("run", "examples/tasks.py", "pipeline", "--x", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "16\n"


def test_every_seed_example_runs_on_the_cli() -> None:
    cases = {
        ("process_numbers", "--values", "[1, 2, 3]"): "6",
        ("process_data", "--url", "http://x"): "http://x: 6",
        ("my_workflow", "--input", "abc"): "ABC!",
    }
    for args, expected in cases.items():
        r = _cli("run", "examples/tasks.py", *args)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == expected


def test_example_script_runs_as_a_program(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, str(EXAMPLES)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Hello, World!\nHello, World!\n"
