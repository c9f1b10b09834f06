"""The kubernetes backend under load and faults, on a real cluster (runs driven from this process,
``--local-controller``): a nested fan-out of 50 completes, a fan-out wider than the cluster queues
for room and completes, Ctrl-C and ``flyte runs abort`` at a
fan-out of 100 leave no pod running, a driver killed with -9 leaves no pod running (each notices its
controller is gone and ends) and the next command deletes what is left, saying so.

Each test counts only the pods labelled with its own run. Latencies are measured by
``nox -s bench`` (bench/containers.py), never asserted here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import NAMESPACE, kube_options, pods_of
from flyte_backend_kubernetes.names import run_selector

pytestmark = [pytest.mark.timeout(1800), pytest.mark.usefixtures("kube")]

TASKS = '''
import time
import flyte

env = flyte.TaskEnvironment(name="kload")


@env.task
def leaf(i: int) -> int:
    return i * 2


@env.task
def middle(i: int) -> int:
    return leaf(i) + 1


@env.task
def nested(n: int) -> int:
    return sum(flyte.map(middle, range(n)))


@env.task
def sleeper(i: int) -> int:
    time.sleep(600)
    return i


@env.task
def fan_sleep(n: int) -> list[int]:
    return list(flyte.map(sleeper, range(n)))


# One CPU per call: CI's node fits two at a time.
wide = flyte.TaskEnvironment(name="kwide", resources=flyte.Resources(cpu="1"))


@wide.task
def busy(i: int) -> int:
    time.sleep(1)
    return i


@env.task
def wider_than_the_cluster(n: int) -> int:
    return sum(flyte.map(busy, range(n)))
'''


def project(tmp_path: Path, **options: Any) -> Path:
    """A project on the cluster; ``options`` add to or change the backend options."""
    data = tmp_path / "data"
    (tmp_path / ".flyte").mkdir()
    (tmp_path / ".flyte" / "config.yaml").write_text(yaml.safe_dump({
        "backend": "kubernetes",
        "storage": {"data": str(data), "runs": str(tmp_path / "runs.db")},
        "backends": {"kubernetes": {k: v for k, v in kube_options(data, **options).items() if k != "echo"}},
    }))
    (tmp_path / "kload.py").write_text(TASKS)
    return tmp_path


def env_of(proj: Path) -> dict[str, str]:
    return {**os.environ, "FLYTE_HOME": str(proj / "home")}


def cli(proj: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], cwd=proj, env=env_of(proj),
                          capture_output=True, text=True, timeout=1800)


def start(proj: Path, name: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--local-controller", "--no-progress",
                             "--name", name, "kload.py", *args], cwd=proj, env=env_of(proj),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def running_pods(kube: Any, run: str) -> int:
    """Pods of ``run`` that are pending or running and not being deleted."""
    pods = kube.list_namespaced_pod(NAMESPACE, label_selector=run_selector(run)).items
    return sum(1 for p in pods if p.status.phase in ("Pending", "Running"))


def wait_until(check: Callable[[], bool], what: str, timeout: float = 900) -> None:
    """Poll ``check`` until it holds (a guard against a hung test, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.5)


def test_nested_fan_out_of_50_completes(tmp_path: Path, kube: Any) -> None:
    proj = project(tmp_path)
    name = f"knest{os.getpid()}"
    r = cli(proj, "run", "--local-controller", "--no-progress", "--name", name, "kload.py", "nested", "--n", "50")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(sum(i * 2 + 1 for i in range(50)))
    assert pods_of(kube, name) == []


def test_a_fan_out_wider_than_the_cluster_queues_for_room(tmp_path: Path, kube: Any) -> None:
    """16 calls of one CPU each on a node with room for two: the pods the scheduler has no room
    for wait while the others come and go (for longer than the unschedulable grace), and all end."""
    proj = project(tmp_path, unschedulable_grace=20)
    name = f"kwide{os.getpid()}"
    r = cli(proj, "run", "--local-controller", "--no-progress", "--name", name, "kload.py",
            "wider_than_the_cluster", "--n", "16")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(sum(range(16)))
    assert pods_of(kube, name) == []


@pytest.mark.parametrize("how", ["ctrl-c", "runs-abort"])
def test_abort_at_fan_out_100_leaves_no_pod(tmp_path: Path, kube: Any, how: str) -> None:
    proj = project(tmp_path)
    name = f"kab{how[0]}{os.getpid()}"
    proc = start(proj, name, "fan_sleep", "--n", "100")
    try:
        wait_until(lambda: running_pods(kube, name) >= 20, "the fan-out to start")
        if how == "ctrl-c":
            proc.send_signal(signal.SIGINT)
        else:
            r = cli(proj, "runs", "abort", name)
            assert r.returncode == 0, r.stderr
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "Traceback" not in err and "CancelledError" not in err, err
    assert running_pods(kube, name) == 0
    shown = json.loads(cli(proj, "runs", "show", name, "--json").stdout)
    assert shown["run"]["phase"] == "aborted"


def test_driver_killed_leaves_no_pod_running(tmp_path: Path, kube: Any) -> None:
    proj = project(tmp_path)
    name = f"kkill{os.getpid()}"
    proc = start(proj, name, "fan_sleep", "--n", "5")
    try:
        wait_until(lambda: running_pods(kube, name) == 6 and all(
            p.status.phase == "Running" for p in kube.list_namespaced_pod(
                NAMESPACE, label_selector=run_selector(name)).items), "every pod to run")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=300)
        # Each worker notices its controller is gone and ends its pod: nobody deletes them.
        wait_until(lambda: running_pods(kube, name) == 0, "the pods to end", timeout=300)
    finally:
        proc.kill()
    shown = json.loads(cli(proj, "runs", "show", name, "--json").stdout)
    assert shown["run"]["phase"] == "interrupted"
    assert f"deleted 6 pod(s) of run {name}" in shown["run"]["error"]["message"]
