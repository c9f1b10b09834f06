"""Every wrong configuration value is one line naming the key and the file, exit 2, with no side effects."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

TASKS = '''
import flyte

env = flyte.TaskEnvironment(name="cfg")


@env.task
def hello() -> str:
    return "hi"
'''

# (config file text, backend, the key the one-line error must name)
CASES: list[tuple[str, str, str]] = [
    ("storage: {data: 5}", "local", "storage.data"),
    ("storage: {runs: {x: 1}}", "local", "storage.runs"),
    ("storage: [1]", "local", "storage"),
    ("storage: {data: /tmp/x, bucket: y}", "local", "storage"),
    ("backend: 5", "local", "backend"),
    ("backend: [local]", "local", "backend"),
    ("bakend: local", "local", "the top level"),
    ("root_dir: 3", "local", "root_dir"),
    ("images: {a: 1}", "local", "images.a"),
    ("images: [a]", "local", "images"),
    ("env_vars: x", "local", "env_vars"),
    ("env_vars: [1, 2]", "local", "env_vars"),
    ("env_vars: {A: [1]}", "local", "env_vars.A"),
    ("env_vars: {A: {b: 1}}", "local", "env_vars.A"),
    ("env_vars: {'a b': 1}", "local", "env_vars"),
    ("env_vars: {'1X': y}", "local", "env_vars"),
    ("backends: [local]", "local", "backends"),
    ("backends: {local: 5}", "local", "backends.local"),
    ("backends: {local: {max_workers: lots}}", "local", "backends.local.max_workers"),
    ("backends: {local: {max_workers: -3}}", "local", "backends.local.max_workers"),
    ("backends: {local: {max_workers: 0}}", "local", "backends.local.max_workers"),
    ("backends: {local: {max_workers: 2.5}}", "local", "backends.local.max_workers"),
    ("backends: {local: {max_workers: true}}", "local", "backends.local.max_workers"),
    ("backends: {local: {abort_grace: soon}}", "local", "backends.local.abort_grace"),
    ("backends: {local: {abort_grace: -1}}", "local", "backends.local.abort_grace"),
    ("backends: {local: {max_worker: 2}}", "local", "backends.local"),
    ("backends: {local-process: {echo: maybe}}", "local-process", "backends.local-process.echo"),
    ("backends: {local-process: {max_workers: '4'}}", "local-process", "backends.local-process.max_workers"),
    ("backends: {local-process: {max_workers: -1}}", "local-process", "backends.local-process.max_workers"),
    ("backends: {local-process: {workers: 2}}", "local-process", "backends.local-process"),
    ("backends: {kubernetes: {namespace: 5}}", "kubernetes", "backends.kubernetes.namespace"),
    ("backends: {kubernetes: {namespace: Not_A_Name}}", "kubernetes", "backends.kubernetes.namespace"),
    ("backends: {kubernetes: {keep_pods_seconds: soon}}", "kubernetes", "backends.kubernetes.keep_pods_seconds"),
    ("backends: {kubernetes: {image_pull_policy: Sometimes}}", "kubernetes", "backends.kubernetes.image_pull_policy"),
    ("backends: {kubernetes: {echo: 'no'}}", "kubernetes", "backends.kubernetes.echo"),
    ("backends: {kubernetes: {namespase: x}}", "kubernetes", "backends.kubernetes"),
    ("backends: {kubernetes: {security: {user: '0'}}}", "kubernetes", "backends.kubernetes.security.user"),
    ("backends: {kubernetes: {security: {user: root}}}", "kubernetes", "backends.kubernetes.security.user"),
    ("backends: {kubernetes: {security: {unrestricted_environments: gpu}}}", "kubernetes",
     "backends.kubernetes.security.unrestricted_environments"),
    ("backends: {kubernetes: {security: {read_only: false}}}", "kubernetes", "backends.kubernetes.security"),
    ("backends: {docker: {keep_failed: maybe}}", "docker", "backends.docker.keep_failed"),
    ("backends: {docker: {network: [1]}}", "docker", "backends.docker.network"),
    ("backends: {docker: {max_concurrent_actions: 0}}", "docker", "backends.docker.max_concurrent_actions"),
    ("backends: {docker: {echo: 1}}", "docker", "backends.docker.echo"),
    ("backends: {docker: {base_imag: x}}", "docker", "backends.docker"),
]


@pytest.mark.parametrize(("text", "backend", "key"), CASES, ids=[c[0] for c in CASES])
def test_bad_configuration_is_one_line_exit_2_and_changes_nothing(
    tmp_path: Path, text: str, backend: str, key: str
) -> None:
    (tmp_path / "t.py").write_text(TASKS)
    config = tmp_path / "config.yaml"
    config.write_text(text + "\n")
    r = subprocess.run([sys.executable, "-m", "flyte_core.cli", "-c", str(config), "run", "--backend", backend,
                        "--no-progress", "t.py", "hello"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"'{key}'" in lines[0] and str(config) in lines[0], lines[0]
    assert r.stdout == ""
    runs_db = Path(os.environ["FLYTE_HOME"]) / "runs.db"
    if runs_db.exists():  # nothing was run or recorded
        with sqlite3.connect(runs_db) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    assert not (Path(os.environ["FLYTE_HOME"]) / "data").exists()


def test_good_configuration_with_numbers_as_environment_values_runs(tmp_path: Path) -> None:
    (tmp_path / "t.py").write_text(TASKS.replace('return "hi"', 'import os; return os.environ["PORT"]'))
    config = tmp_path / "config.yaml"
    config.write_text("backend: local\nstorage:\nenv_vars: {PORT: 8080}\nbackends: {local: {max_workers: 2}}\n")
    r = subprocess.run([sys.executable, "-m", "flyte_core.cli", "-c", str(config), "run", "--backend", "local-process",
                        "--no-progress", "t.py", "hello"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "8080"
