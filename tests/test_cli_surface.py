"""Flyte 2's CLI options here: flyte build, flyte create config, run --follow/--image/--raw-data-path/
--max-action-concurrency/--service-account, and the root -v and --output-format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import flyte
from tests import surface_tasks as t

TASKS = '''
import asyncio
import threading

import flyte

env = flyte.TaskEnvironment(name="cli")
gpu = flyte.TaskEnvironment(name="gpu", image=flyte.Image.from_ref_name("gpu"))
RUNNING = PEAK = 0
LOCK = threading.Lock()


@env.task
def add(x: int) -> int:
    return x + 1


@env.task
def pair(x: int) -> tuple[int, str]:
    return x, "two"


@env.task
def raw_path() -> str:
    return flyte.ctx().raw_data_path


@env.task
async def child(i: int) -> int:
    global RUNNING, PEAK
    with LOCK:
        RUNNING += 1
        PEAK = max(PEAK, RUNNING)
    await asyncio.sleep(0.05)
    with LOCK:
        RUNNING -= 1
    return i


@env.task
async def peak(n: int) -> int:
    await asyncio.gather(*(child.aio(i) for i in range(n)))
    return PEAK
'''


def flyte_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)


@pytest.fixture
def wf(tmp_path: Path) -> Path:
    p = tmp_path / "wf.py"
    p.write_text(TASKS)
    return p


def test_output_format_json_prints_results_and_records_as_json(tmp_path: Path, wf: Path) -> None:
    r = flyte_cli(tmp_path, "--output-format", "json", "run", "wf.py", "pair", "--x", "1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [1, "two"]
    r = flyte_cli(tmp_path, "-of", "json-raw", "run", "wf.py", "add", "--x", "1")
    assert r.stdout == "2\n"
    runs = flyte_cli(tmp_path, "-of", "json", "runs", "list")
    assert [r["task"] for r in json.loads(runs.stdout)] == ["cli.add", "cli.pair"]


def test_verbose_shows_flyte_core_log_records(tmp_path: Path, wf: Path) -> None:
    quiet = flyte_cli(tmp_path, "run", "wf.py", "add", "--x", "1")
    loud = flyte_cli(tmp_path, "-v", "run", "wf.py", "add", "--x", "1")
    assert loud.returncode == 0 and loud.stdout == "2\n"
    assert "task cli.add on the local backend" in loud.stderr.replace("\n", " ")
    assert "task cli.add on the local backend" not in quiet.stderr.replace("\n", " ")


def test_max_action_concurrency_limits_the_children_running_at_once(tmp_path: Path, wf: Path) -> None:
    r = flyte_cli(tmp_path, "run", "--max-action-concurrency", "2", "wf.py", "peak", "--n", "6")
    assert r.returncode == 0, r.stderr
    assert 1 <= int(r.stdout) <= 2
    bad = flyte_cli(tmp_path, "run", "--max-action-concurrency", "1", "wf.py", "peak", "--n", "2")
    assert bad.returncode == 2 and "at least 2" in bad.stderr


def test_max_action_concurrency_through_with_runcontext() -> None:
    flyte.init()
    t.PEAK = t.RUNNING = 0
    run = flyte.with_runcontext(max_action_concurrency=3).run(t.fan_counted, n=9)
    assert run.outputs()[0] == list(range(9)) and 1 <= t.PEAK <= 3


def test_raw_data_path_is_where_the_run_puts_its_data(tmp_path: Path, wf: Path) -> None:
    target = tmp_path / "raw-here"
    r = flyte_cli(tmp_path, "run", "--raw-data-path", str(target), "wf.py", "raw_path")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(target)


def test_image_overrides_apply_by_name_and_as_the_default(tmp_path: Path, wf: Path) -> None:
    r = flyte_cli(tmp_path, "run", "--image", "gpu=ghcr.io/org/gpu:2", "--image", "python:3.11-slim",
                  "wf.py", "add", "--x", "1")
    assert r.returncode == 0, r.stderr
    err = r.stderr.replace("\n", " ")
    assert "Environment 'cli' runs image python:3.11-slim" in err
    assert "Environment 'gpu' runs image ghcr.io/org/gpu:2" in err
    assert "sets 'image', which the 'local' backend does not act on" in err  # the backend says what it ignores
    bad = flyte_cli(tmp_path, "run", "--image", "a=", "wf.py", "add", "--x", "1")
    assert bad.returncode == 2 and "NAME=URI" in bad.stderr


def test_service_account_is_reported_where_the_backend_does_not_act_on_it(tmp_path: Path, wf: Path) -> None:
    r = flyte_cli(tmp_path, "run", "--service-account", "robot", "wf.py", "add", "--x", "1")
    assert r.returncode == 0 and r.stdout == "2\n"
    assert "--service-account is not acted on by the 'local' backend" in r.stderr.replace("\n", " ")


def test_follow_is_the_default_and_contradicts_detach(tmp_path: Path, wf: Path) -> None:
    r = flyte_cli(tmp_path, "run", "--follow", "wf.py", "add", "--x", "1")
    assert r.returncode == 0 and r.stdout == "2\n"
    bad = flyte_cli(tmp_path, "run", "--follow", "--detach", "wf.py", "add", "--x", "1")
    assert bad.returncode == 2 and "contradict" in bad.stderr


def test_create_config_writes_a_file_the_cli_then_uses(tmp_path: Path, wf: Path) -> None:
    r = flyte_cli(tmp_path, "create", "config", "--backend", "local-process", "--storage", "store",
                  "--endpoint", "dns:///x")
    assert r.returncode == 0, r.stderr
    written = yaml.safe_load((tmp_path / ".flyte" / "config.yaml").read_text())
    assert written == {"backend": "local-process", "storage": {"data": "store"}}
    assert "--endpoint not written" in r.stderr
    again = flyte_cli(tmp_path, "create", "config")
    assert again.returncode == 2 and "--force" in again.stderr
    run = flyte_cli(tmp_path, "run", "wf.py", "add", "--x", "4")
    assert run.returncode == 0 and run.stdout == "5\n"
    runs = json.loads(flyte_cli(tmp_path, "-of", "json", "runs", "list").stdout)
    assert [r["backend"] for r in runs] == ["local-process"]  # the configured backend ran it


def test_build_dry_run_lists_the_environments_and_refuses_unknown_ones(tmp_path: Path, wf: Path) -> None:
    r = flyte_cli(tmp_path, "-of", "json", "build", "--dry-run", "wf.py")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"cli": None, "gpu": None}
    bad = flyte_cli(tmp_path, "build", "wf.py", "nope")
    assert bad.returncode == 2 and "no environment 'nope'" in bad.stderr and "cli, gpu" in bad.stderr
