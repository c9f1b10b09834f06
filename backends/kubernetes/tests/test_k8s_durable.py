"""Durable runs on a real cluster: a driver pod drives the run from inside the cluster (its
ServiceAccount from `flyte kubernetes setup`); the terminal follows, detaches and re-attaches;
aborting, or deleting the driver pod, stops the run; no pod of the run is left afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import NAMESPACE, pods_of
from flyte_backend_kubernetes.durable import DRIVER_LABEL
from test_k8s_cli import cli, project

pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("kube")]


def all_pods(kube: Any, run: str) -> list[str]:
    """The task pods and the driver pod of ``run``."""
    drivers = kube.list_namespaced_pod(NAMESPACE, label_selector=f"{DRIVER_LABEL}={run}").items
    return pods_of(kube, run) + [p.metadata.name for p in drivers]


def wait_for(cond: Any, what: str, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def test_durable_run_prints_the_result(tmp_path: Path, kube: Any) -> None:
    proj = project(tmp_path)
    r = cli(proj, "kubernetes", "run", "--name", "dur1", "tasks.py", "pipeline", "--x", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "16\n"
    assert "started by driver pod dur1-driver" in r.stderr
    assert all_pods(kube, "dur1") == []


def test_detach_then_reattach(tmp_path: Path, kube: Any) -> None:
    proj = project(tmp_path)
    r = cli(proj, "kubernetes", "run", "--detach", "--name", "dur2", "sleepy.py", "sleeper", "--s", "8")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "dur2\n"
    # The terminal that started it is gone; the run goes on in the cluster.
    assert "dur2-driver" in all_pods(kube, "dur2")
    r = cli(proj, "kubernetes", "follow", "dur2")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "8\n"
    assert all_pods(kube, "dur2") == []


def test_ctrl_c_while_following_detaches(tmp_path: Path, kube: Any) -> None:
    proj = project(tmp_path)
    env = {**os.environ, "FLYTE_HOME": str(proj / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "kubernetes", "run", "--name", "dur3",
                             "sleepy.py", "sleeper", "--s", "10"], cwd=proj, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for(lambda: "dur3-a0-1" in all_pods(kube, "dur3"), "the task pod")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Detached" in err, err
    assert "dur3-driver" in all_pods(kube, "dur3")  # still running
    r = cli(proj, "kubernetes", "follow", "dur3")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "10\n"
    assert all_pods(kube, "dur3") == []


def test_abort_deletes_every_pod(tmp_path: Path, kube: Any) -> None:
    proj = project(tmp_path)
    r = cli(proj, "kubernetes", "run", "--detach", "--name", "dur4", "sleepy.py", "fan_sleep", "--n", "2")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(all_pods(kube, "dur4")) == 4, "the driver, the parent and two children")
    assert cli(proj, "runs", "abort", "dur4").returncode == 0
    r = cli(proj, "kubernetes", "follow", "dur4")
    assert r.returncode == 1 and "aborted" in r.stderr, r.stderr
    assert all_pods(kube, "dur4") == []


def test_deleting_the_driver_pod_aborts_the_run(tmp_path: Path, kube: Any) -> None:
    proj = project(tmp_path)
    r = cli(proj, "kubernetes", "run", "--detach", "--name", "dur5", "sleepy.py", "fan_sleep", "--n", "2")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(all_pods(kube, "dur5")) == 4, "the driver, the parent and two children")
    kube.delete_namespaced_pod("dur5-driver", NAMESPACE)  # a graceful delete: SIGTERM, then 60 s
    r = cli(proj, "kubernetes", "follow", "dur5")
    assert r.returncode == 1 and "aborted" in r.stderr, r.stderr
    wait_for(lambda: all_pods(kube, "dur5") == [], "every pod of the run to go", timeout=90)
