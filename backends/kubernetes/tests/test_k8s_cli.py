"""The kubernetes backend from the command line, on a real cluster: the seed examples with the
backend chosen in a config file, Ctrl-C and ``flyte runs abort`` deleting every pod of a run
driven from this process (``--local-controller``), ``flyte kubernetes rbac`` / ``setup`` /
``prune``. Durable runs (a driver pod) are in test_k8s_durable.py."""

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
import yaml
from conftest import BASE_IMAGE, NAMESPACE, kube_options, pods_of

ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("kube")]

SLEEPY = '''
import time
import flyte

env = flyte.TaskEnvironment(name="sleepy")


@env.task
def sleeper(s: int) -> int:
    time.sleep(s)
    return s


@env.task
def fan_sleep(n: int) -> list[int]:
    return list(flyte.map(sleeper, [600] * n))
'''


def project(tmp_path: Path) -> Path:
    """A project folder whose ``.flyte/config.yaml`` picks the kubernetes backend."""
    data = tmp_path / "data"
    (tmp_path / ".flyte").mkdir()
    (tmp_path / ".flyte" / "config.yaml").write_text(yaml.safe_dump({
        "backend": "kubernetes",
        "storage": {"data": str(data), "runs": str(tmp_path / "runs.db")},
        "backends": {"kubernetes": {k: v for k, v in kube_options(data).items() if k != "echo"}},
    }))
    (tmp_path / "tasks.py").write_text((ROOT / "examples" / "tasks.py").read_text())
    (tmp_path / "sleepy.py").write_text(SLEEPY)
    return tmp_path


def cli(cwd: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLYTE_HOME": str(cwd / "home")}
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, **kw)


def test_seed_examples_on_the_cli(tmp_path: Path) -> None:
    proj = project(tmp_path)
    r = cli(proj, "run", "--backend", "kubernetes", "tasks.py", "pipeline", "--x", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "16\n"
    r = cli(proj, "run", "tasks.py", "greet", "--name", "World")  # the backend from the config file
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Hello, World!\n"
    shown = json.loads(cli(proj, "runs", "list", "--json").stdout)
    assert {x["backend"] for x in shown} == {"kubernetes"}


def test_a_local_data_store_without_host_path_is_refused(tmp_path: Path) -> None:
    proj = project(tmp_path)
    conf = yaml.safe_load((proj / ".flyte" / "config.yaml").read_text())
    del conf["backends"]["kubernetes"]["data_host_path"]
    (proj / ".flyte" / "config.yaml").write_text(yaml.safe_dump(conf))
    r = cli(proj, "run", "tasks.py", "greet", "--name", "World")
    assert r.returncode != 0
    assert "data_host_path" in r.stderr and "hostPath" in r.stderr, r.stderr


def _start_fan(proj: Path, name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "FLYTE_HOME": str(proj / "home")}
    # Driven from this process (no driver pod), so Ctrl-C aborts the run instead of detaching.
    return subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--local-controller", "--no-progress",
                             "--name", name, "sleepy.py", "fan_sleep", "--n", "2"], cwd=proj, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_pods(kube: Any, run: str, n: int) -> None:
    deadline = time.time() + 300
    while len(pods_of(kube, run)) < n and time.time() < deadline:
        time.sleep(0.2)
    assert len(pods_of(kube, run)) == n


def test_ctrl_c_deletes_every_pod(tmp_path: Path, kube: Any) -> None:
    proj = project(tmp_path)
    name = f"stopme{os.getpid()}"
    proc = _start_fan(proj, name)
    _wait_for_pods(kube, name, 3)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert pods_of(kube, name) == []
    shown = json.loads(cli(proj, "runs", "show", name, "--json").stdout)
    assert {a["phase"] for a in shown["actions"]} == {"aborted"}


def test_abort_from_another_terminal_deletes_the_subtree(tmp_path: Path, kube: Any) -> None:
    proj = project(tmp_path)
    name = f"abortme{os.getpid()}"
    proc = _start_fan(proj, name)
    _wait_for_pods(kube, name, 3)
    r = cli(proj, "runs", "abort", name)
    assert r.returncode == 0, r.stderr
    proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert pods_of(kube, name) == []
    shown = json.loads(cli(proj, "runs", "show", name, "--json").stdout)
    assert shown["run"]["phase"] == "aborted"
    assert {a["phase"] for a in shown["actions"]} == {"aborted"}


def test_rbac_and_setup(tmp_path: Path, kube: Any) -> None:
    r = cli(tmp_path, "kubernetes", "rbac", "--namespace", "flyte-e2e-rbac")
    assert r.returncode == 0, r.stderr
    docs = list(yaml.safe_load_all(r.stdout))
    assert [d["kind"] for d in docs] == ["Namespace", "ServiceAccount", "Role", "RoleBinding"]
    role = docs[2]
    assert {res for rule in role["rules"] for res in rule["resources"]} == {"pods", "pods/log"}
    r = cli(tmp_path, "kubernetes", "setup", "--namespace", "flyte-e2e-rbac")
    assert r.returncode == 0, r.stderr
    assert "ServiceAccount/flyte-runner" in r.stdout
    again = cli(tmp_path, "kubernetes", "setup", "--namespace", "flyte-e2e-rbac")  # idempotent
    assert again.returncode == 0, again.stderr
    sa = kube.read_namespaced_service_account("flyte-runner", "flyte-e2e-rbac")
    assert sa.metadata.name == "flyte-runner"


def test_prune_deletes_pods_of_dead_controllers(tmp_path: Path, kube: Any) -> None:
    from flyte_backend_kubernetes.names import CONTROLLER_ANNOTATION, RUN_LABEL

    # A name of this test's own: a leftover of another session's test on the cluster cannot clash with it.
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    dead = subprocess.Popen(["true"])
    dead.wait()
    kube.create_namespaced_pod(NAMESPACE, {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": f"{ghost}-a0-1", "labels": {RUN_LABEL: ghost},
                     "annotations": {CONTROLLER_ANNOTATION: f"{dead.pid}@{__import__('socket').gethostname()}"}},
        "spec": {"restartPolicy": "Never", "containers": [
            {"name": "primary", "image": BASE_IMAGE, "imagePullPolicy": "Never", "command": ["sleep", "600"]}]},
    })
    r = cli(tmp_path, "kubernetes", "prune", "--namespace", NAMESPACE)
    assert r.returncode == 0, r.stderr
    assert ghost in r.stdout
    assert pods_of(kube, ghost) == []
