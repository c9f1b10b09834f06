"""The kubernetes launcher when the cluster cannot be reached: reading runs (`flyte runs list`)
must keep working and leave a launched run as it was, not crash or end it. The cluster here is a
kubeconfig naming a closed local port, a real connection refusal (nothing is faked)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import yaml
from flyte_backend_kubernetes.durable import DRIVER_RUN_LABEL

from flyte_core.launcher import LAUNCHER_LABEL
from flyte_core.runstore.records import Phase, RunRecord
from flyte_core.session import Session


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns


def test_an_unreachable_cluster_leaves_launched_runs_readable(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": f"https://127.0.0.1:{_closed_port()}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u", "namespace": "ns"}}],
    }))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"storage": {"data": str(tmp_path / "data"), "runs": str(tmp_path / "runs.db")},
                                      "backends": {"kubernetes": {"kubeconfig": str(kubeconfig)}}}))
    session = Session(config=config)
    try:
        session.runs.put_run(RunRecord(name="r1", task="env.t", phase=Phase.RUNNING, backend="kubernetes",
                                       created_at=time.time(),
                                       labels={LAUNCHER_LABEL: "kubernetes", DRIVER_RUN_LABEL: "ns/r1-driver"}))
        (listed,) = session.list_runs()
        assert listed.name == "r1" and listed.phase is Phase.RUNNING
    finally:
        session.close()
