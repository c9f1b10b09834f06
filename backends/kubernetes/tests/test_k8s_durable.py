"""Durable runs on a real cluster: `flyte run --backend kubernetes` starts a driver pod that
drives the run from inside the cluster (its ServiceAccount from `flyte kubernetes setup`); the
terminal follows, detaches (`--detach`, Ctrl-C) and re-attaches (`flyte runs show RUN --follow`);
aborting, or deleting the driver pod, stops the run; no pod of the run is left afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import NAMESPACE, pods_of
from flyte_backend_kubernetes.names import DRIVER_LABEL
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


def shown(proj: Path, run: str) -> dict[str, Any]:
    r = cli(proj, "runs", "show", run, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_durable_run_prints_the_result_and_the_logs(tmp_path: Path, kube: Any) -> None:
    dur1 = f"dur1-{uuid.uuid4().hex[:8]}"  # this run only: others may run the suite on the cluster
    proj = project(tmp_path)
    r = cli(proj, "run", "--name", dur1, "tasks.py", "pipeline", "--x", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "16\n"
    assert f"launched on kubernetes (pod/flyte-e2e/{dur1}-driver)" in r.stderr
    wait_for(lambda: all_pods(kube, dur1) == [], "the driver pod to delete itself", timeout=300)
    run = shown(proj, dur1)
    assert run["run"]["phase"] == "succeeded" and len(run["actions"]) == 3
    assert run["run"]["labels"]["flyte-core.org/launcher"] == "kubernetes"


def test_detach_then_reattach(tmp_path: Path, kube: Any) -> None:
    dur2 = f"dur2-{uuid.uuid4().hex[:8]}"  # this run only: others may run the suite on the cluster
    proj = project(tmp_path)
    r = cli(proj, "run", "--detach", "--name", dur2, "sleepy.py", "sleeper", "--s", "8")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{dur2}\n"
    assert f"flyte runs show {dur2} --follow" in r.stderr
    # The terminal that started it is gone; the run goes on in the cluster.
    assert f"{dur2}-driver" in all_pods(kube, dur2)
    r = cli(proj, "runs", "show", dur2, "--follow")
    assert r.returncode == 0, r.stderr
    assert "succeeded" in r.stdout and "sleepy.sleeper" in r.stdout
    assert cli(proj, "runs", "outputs", dur2).stdout == "o0: 8\n"
    wait_for(lambda: all_pods(kube, dur2) == [], "the driver pod to go", timeout=300)


def test_ctrl_c_while_following_detaches(tmp_path: Path, kube: Any) -> None:
    dur3 = f"dur3-{uuid.uuid4().hex[:8]}"  # this run only: others may run the suite on the cluster
    proj = project(tmp_path)
    env = {**os.environ, "FLYTE_HOME": str(proj / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--name", dur3,
                             "sleepy.py", "sleeper", "--s", "10"], cwd=proj, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wait_for(lambda: f"{dur3}-a0-1" in all_pods(kube, dur3), "the task pod")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130 and "Detached" in err, err
    assert f"{dur3}-driver" in all_pods(kube, dur3)  # still running
    r = cli(proj, "runs", "logs", dur3, "--follow")  # re-attach to the logs this time
    assert r.returncode == 0, r.stderr
    assert shown(proj, dur3)["run"]["phase"] == "succeeded"
    wait_for(lambda: all_pods(kube, dur3) == [], "every pod of the run to go", timeout=300)


def test_abort_deletes_every_pod(tmp_path: Path, kube: Any) -> None:
    dur4 = f"dur4-{uuid.uuid4().hex[:8]}"  # this run only: others may run the suite on the cluster
    proj = project(tmp_path)
    r = cli(proj, "run", "--detach", "--name", dur4, "sleepy.py", "fan_sleep", "--n", "2")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(all_pods(kube, dur4)) == 4, "the driver, the parent and two children")
    r = cli(proj, "runs", "abort", dur4)
    assert r.returncode == 0 and "aborted" in r.stdout, r.stdout + r.stderr
    run = shown(proj, dur4)
    assert run["run"]["phase"] == "aborted"
    assert {a["phase"] for a in run["actions"]} == {"aborted"}
    wait_for(lambda: all_pods(kube, dur4) == [], "every pod of the run to go", timeout=300)


def test_deleting_the_driver_pod_aborts_the_run(tmp_path: Path, kube: Any) -> None:
    dur5 = f"dur5-{uuid.uuid4().hex[:8]}"  # this run only: others may run the suite on the cluster
    proj = project(tmp_path)
    r = cli(proj, "run", "--detach", "--name", dur5, "sleepy.py", "fan_sleep", "--n", "2")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(all_pods(kube, dur5)) == 4, "the driver, the parent and two children")
    kube.delete_namespaced_pod(f"{dur5}-driver", NAMESPACE)  # a graceful delete: SIGTERM, then 60 s
    r = cli(proj, "runs", "show", dur5, "--follow")
    assert "aborted" in r.stdout, r.stdout + r.stderr
    wait_for(lambda: all_pods(kube, dur5) == [], "every pod of the run to go", timeout=300)


def test_a_driver_that_cannot_start_ends_the_run(tmp_path: Path, kube: Any) -> None:
    dur6 = f"dur6-{uuid.uuid4().hex[:8]}"  # this run only: others may run the suite on the cluster
    import yaml

    proj = project(tmp_path)
    conf = yaml.safe_load((proj / ".flyte" / "config.yaml").read_text())
    conf["backends"]["kubernetes"]["data_secret"] = "flyte-e2e-no-such-secret"  # the kubelet cannot start it
    (proj / ".flyte" / "config.yaml").write_text(yaml.safe_dump(conf))
    r = cli(proj, "run", "--name", dur6, "tasks.py", "greet", "--name", "x")
    assert r.returncode == 1, r.stderr
    assert f"{dur6}-driver" in r.stderr and "CreateContainerConfigError" in r.stderr, r.stderr
    assert shown(proj, dur6)["run"]["phase"] == "failed"
    wait_for(lambda: all_pods(kube, dur6) == [], "the driver pod to go", timeout=300)
