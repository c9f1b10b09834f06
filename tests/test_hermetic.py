"""Test suites never touch the user's ``~/.flyte``: flyte-core's pytest plugin gives every test of
every distribution (and of any project with flyte-core installed) a temporary FLYTE_HOME."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

# A plugin distribution's test, as the data frame and dataclass tests were: it starts `flyte run` and
# runs a task in-process, without choosing a FLYTE_HOME itself.
SUITE = '''
import subprocess, sys

import flyte

env = flyte.TaskEnvironment(name="hermetic")


@env.task
def double(x: int) -> int:
    return 2 * x


def test_cli_run():
    r = subprocess.run([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "wf.py", "double",
                        "--x", "2"], capture_output=True, text=True, check=True)
    assert r.stdout == "4\\n"


def test_api_run():
    flyte.init(backend="local")
    assert flyte.run(double, x=3).outputs()[0] == 6
'''


def run_suite(tmp_path: Path, *pytest_args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run :data:`SUITE` in a fresh pytest whose user home is ``tmp_path/user`` and with no
    FLYTE_HOME set, as on a developer's machine."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "wf.py").write_text(SUITE)
    (project / "test_wf.py").write_text("from wf import *  # noqa: F403\n")
    (project / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    user = tmp_path / "user"
    user.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("FLYTE_HOME", "FLYTE_CONFIG")}
    env.update(HOME=str(user), PYTHONPATH=str(project))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", *pytest_args], cwd=project, env=env,
                       capture_output=True, text=True, timeout=300)
    return r, user / ".flyte"


def test_a_plugin_suite_leaves_the_users_flyte_home_untouched(tmp_path: Path) -> None:
    r, user_flyte = run_suite(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed" in r.stdout
    assert not user_flyte.exists(), f"the suite wrote into ~/.flyte: {sorted(user_flyte.rglob('*'))}"


def test_without_the_plugin_the_same_suite_would_write_there(tmp_path: Path) -> None:
    # The control: the suite above really does reach ~/.flyte unless the plugin isolates it.
    r, user_flyte = run_suite(tmp_path, "-p", "no:flyte_core")
    assert r.returncode == 0, r.stdout + r.stderr
    assert user_flyte.exists(), "the control suite did not reach ~/.flyte: this test proves nothing"


def test_this_suite_runs_with_a_temporary_flyte_home(flyte_home: Path) -> None:
    assert os.environ["FLYTE_HOME"] == str(flyte_home)
    assert Path.home() / ".flyte" not in (flyte_home, *flyte_home.parents)
    assert "FLYTE_CONFIG" not in os.environ


INTERRUPTIBLE = '''
import signal, subprocess, sys


def test_a_started_process_takes_ctrl_c():
    # What a Ctrl-C test checks first: the child it starts turns SIGINT into KeyboardInterrupt.
    probe = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout == "True\\n"
'''


def test_processes_tests_start_take_ctrl_c_when_the_suite_was_started_with_sigint_ignored(tmp_path: Path) -> None:
    # As from `nohup ... &` in a script: pytest starts with SIGINT ignored, which its children inherit.
    (tmp_path / "test_interrupt.py").write_text(INTERRUPTIBLE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_interrupt.py"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:flyte_core",
                        "test_interrupt.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert r.returncode == 1, "without the plugin the child ignores SIGINT: this test would prove nothing"
