"""The kubernetes launcher's checks that need no cluster. When the cluster cannot be reached,
reading runs (`flyte runs list`) must keep working and leave a launched run as it was, not crash
or end it (the cluster here is a kubeconfig naming a closed local port: a real connection
refusal, nothing faked); a run store beside the local secret store is never mounted into a
driver pod."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import yaml
from flyte_backend_kubernetes.durable import DRIVER_RUN_LABEL

from flyte_core.extend import LAUNCHER_LABEL, Phase, RunRecord, Session


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


def test_a_run_store_beside_the_secret_store_is_not_mounted_into_a_driver(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from flyte_backend_kubernetes.durable import _check_runs_folder

    from flyte_core.extend import FlyteUsageError, LocalSecretStore

    monkeypatch.setenv("FLYTE_HOME", str(tmp_path / "home"))
    _check_runs_folder(str(tmp_path / "home" / "runs.db"))  # no secret store yet: nothing to expose
    LocalSecretStore().set("token", "s3cret")
    with pytest.raises(FlyteUsageError, match="folder of its own"):
        _check_runs_folder(str(tmp_path / "home" / "runs.db"))
    _check_runs_folder(str(tmp_path / "runs" / "runs.db"))
