"""The backend conformance suite on a real cluster: the same programs and outcomes as the local
and docker backends, each action in its own pod, and no pod of a run left when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import kube_options, pods_of

from flyte_core.extend import Config, Session
from flyte_core.testing.backends import BackendSuite

pytestmark = [pytest.mark.timeout(900)]


class TestKubernetesConformance(BackendSuite):
    """Every suite test, with a pod per action."""

    backend = "kubernetes"
    # Pods are deleted before a run returns; the watch thread needs a moment to stop.
    cleanup_grace = 10.0

    @pytest.fixture
    def session(self, tmp_path: Path, project_dir: Path, kube: Any) -> Iterator[Session]:
        """The data store is a hostPath folder the pods mount (``data_host_path``)."""
        self._kube = kube
        data = tmp_path / "data"
        s = Session(config=Config(), backend=self.backend, backend_options=kube_options(data),
                    data_url=str(data), run_store=str(tmp_path / "runs.db"), root_dir=project_dir)
        try:
            yield s
        finally:
            s.close()

    def provide_secret(self, request: pytest.FixtureRequest, key: str, value: str) -> None:
        """As a Kubernetes Secret ``flyte-<key>`` in the test namespace (what the backend mounts)."""
        import base64

        from conftest import NAMESPACE, put_secret
        from kubernetes import client

        name = f"flyte-{key}"
        put_secret(self._kube, name, client.V1Secret(metadata=client.V1ObjectMeta(name=name),
                                                     data={"value": base64.b64encode(value.encode()).decode()}))
        request.addfinalizer(lambda: self._kube.delete_namespaced_secret(name, NAMESPACE))

    def assert_nothing_left(self, run_name: str) -> None:
        """No thread, no child process, and no pod of the run."""
        super().assert_nothing_left(run_name)
        assert pods_of(self._kube, run_name) == [], f"pods of run {run_name} left behind"
