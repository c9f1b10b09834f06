"""The flyte command line: run, its errors and exit codes, runs list/show/logs, plugins."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TASKS = '''
import flyte

env = flyte.TaskEnvironment(name="cli")


@env.task
def add(x: int, y: int = 2, scale: float = 1.0, loud: bool = False, tags: list[str] | None = None) -> str:
    """Adds two numbers."""
    out = str((x + y) * scale)
    print("adding", x, y)
    return out.upper() + ("!" if loud else "") + (",".join(tags) if tags else "")


@env.task
def fails(x: int) -> int:
    raise KeyError(f"missing {x}")


@env.task
def outer(x: int) -> int:
    return fails(x)
'''


def flyte(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)


def write(tmp_path: Path) -> Path:
    p = tmp_path / "wf.py"
    p.write_text(TASKS)
    return p


def test_inputs_are_parsed_from_type_hints(tmp_path: Path) -> None:
    write(tmp_path)
    r = flyte(tmp_path, "run", "wf.py", "add", "--x", "1", "--scale", "2", "--loud", "--tags", '["a", "b"]')
    assert r.returncode == 0, r.stderr
    assert r.stdout == "6.0!a,b\n"


def test_help_shows_each_input_with_type_and_default(tmp_path: Path) -> None:
    write(tmp_path)
    r = flyte(tmp_path, "run", "wf.py", "add", "--help")
    assert r.returncode == 0
    assert "Adds two numbers." in r.stdout
    assert "--x INTEGER" in r.stdout and "--y INTEGER" in r.stdout
    assert "(default: 2)" in r.stdout and "--loud / --no-loud" in r.stdout
    assert "list[str] | None" in r.stdout


def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    write(tmp_path)
    cases = [
        (("run", "nope.py", "add"), "File 'nope.py' does not exist"),
        (("run", "wf.py", "nothere"), "File 'wf.py' has no task 'nothere'; its tasks are: add, fails, outer."),
        (("run", "wf.py", "add"), "Missing option '--x'"),
        (("run", "wf.py", "add", "--x", "abc"), "'abc' is not a valid integer"),
        (("run", "wf.py", "add", "--x", "1", "--tags", "[1"), "is not valid JSON"),
        (("run", "--backend", "nope", "wf.py", "add", "--x", "1"), "No backend named 'nope'"),
    ]
    for args, message in cases:
        r = flyte(tmp_path, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert message in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
        assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, (args, r.stderr)  # no Usage/Try block


def test_task_failure_prints_its_traceback_and_exits_1(tmp_path: Path) -> None:
    write(tmp_path)
    r = flyte(tmp_path, "run", "--no-progress", "wf.py", "outer", "--x", "5")
    assert r.returncode == 1
    assert "KeyError" in r.stderr and "missing 5" in r.stderr
    assert 'raise KeyError(f"missing {x}")' in r.stderr
    assert "action a0.1" in r.stderr


def test_runs_list_show_and_logs(tmp_path: Path) -> None:
    write(tmp_path)
    assert flyte(tmp_path, "run", "--name", "first", "wf.py", "add", "--x", "1").returncode == 0
    assert flyte(tmp_path, "run", "--name", "second", "wf.py", "outer", "--x", "1").returncode == 1
    runs = json.loads(flyte(tmp_path, "runs", "list", "--json").stdout)
    assert [r["name"] for r in runs] == ["second", "first"]
    failed = json.loads(flyte(tmp_path, "runs", "list", "--status", "failed", "--json").stdout)
    assert [r["name"] for r in failed] == ["second"]
    shown = flyte(tmp_path, "runs", "show", "second")
    assert shown.returncode == 0
    assert "a0.1" in shown.stdout and "cli.fails" in shown.stdout and "failed" in shown.stdout
    data = json.loads(flyte(tmp_path, "runs", "show", "second", "--json").stdout)
    assert [a["action"] for a in data["actions"]] == ["a0", "a0.1"]
    logs = flyte(tmp_path, "runs", "logs", "first")
    assert logs.stdout == "[a0] adding 1 2\n"
    assert flyte(tmp_path, "runs", "show", "nope").returncode == 2
    assert flyte(tmp_path, "runs", "outputs", "first").stdout == 'o0: "3.0"\n'
    assert flyte(tmp_path, "runs", "outputs", "first", "a0", "--json").stdout == '{\n  "o0": "3.0"\n}\n'
    missing = flyte(tmp_path, "runs", "outputs", "first", "a0.7")
    assert missing.returncode == 2 and "Run 'first' has no action 'a0.7'" in missing.stderr
    failed_child = flyte(tmp_path, "runs", "outputs", "second", "a0.1")
    assert failed_child.returncode == 2 and "Action 'a0.1' has no outputs: it is failed." in failed_child.stderr


def test_local_flag_and_plugins_listing(tmp_path: Path) -> None:
    write(tmp_path)
    r = flyte(tmp_path, "run", "--local", "wf.py", "add", "--x", "1")
    assert r.returncode == 0, r.stderr
    data = json.loads(flyte(tmp_path, "plugins", "--json").stdout)
    names = {p["name"] for p in data["plugins"]}
    assert {"local", "flyte_core.types.builtins"} <= names
    assert data["backends"]["local"] == "local"
    local = next(p for p in data["plugins"] if p["name"] == "local")
    assert local["distribution"] == "flyte-backend-local" and local["version"]
    assert "flyte_register_backends" in local["hooks"]


LOOPING = '''
import time
import flyte

env = flyte.TaskEnvironment(name="spin")


@env.task
def spin(i: int) -> int:
    while True:
        time.sleep(0.02)


@env.task
def fan(n: int) -> list[int]:
    return list(flyte.map(spin, range(n)))
'''


def test_ctrl_c_aborts_the_whole_tree_and_exits_130(tmp_path: Path) -> None:
    import signal
    import time

    (tmp_path / "spin.py").write_text(LOOPING)
    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--name", "spun",
                             "spin.py", "fan", "--n", "3"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    db = tmp_path / "home" / "runs.db"
    deadline = time.time() + 30
    while time.time() < deadline:  # wait until the three children are running
        if db.exists():
            shown = flyte(tmp_path, "runs", "show", "spun", "--json")
            if shown.returncode == 0 and sum(
                a["phase"] == "running" for a in json.loads(shown.stdout)["actions"]
            ) == 4:
                break
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Interrupted: the run was aborted." in err
    data = json.loads(flyte(tmp_path, "runs", "show", "spun", "--json").stdout)
    assert data["run"]["phase"] == "aborted"
    assert {a["action"]: a["phase"] for a in data["actions"]} == {
        "a0": "aborted", "a0.1": "aborted", "a0.2": "aborted", "a0.3": "aborted"}


def test_runs_show_follow_waits_for_the_end(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(
        "import time\nimport flyte\nenv = flyte.TaskEnvironment(name='slow')\n\n\n"
        "@env.task\ndef nap(s: float) -> float:\n    time.sleep(s)\n    return s\n")
    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--name", "napper",
                             "slow.py", "nap", "--s", "3"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    import time

    deadline = time.time() + 30
    while flyte(tmp_path, "runs", "show", "napper").returncode != 0 and time.time() < deadline:
        time.sleep(0.1)
    shown = flyte(tmp_path, "runs", "show", "napper", "--follow")
    assert shown.returncode == 0
    assert "succeeded" in shown.stdout.splitlines()[0]
    proc.communicate(timeout=60)
