"""Fixtures for the kubernetes backend's tests: a real cluster, a test namespace, an offline base
image, and sessions whose data store is a hostPath folder pods can reach.

The cluster is the one ``$KUBECONFIG`` names (``/work/shared/tools/k8s-up.sh`` starts a
single-node v1.20 one whose runtime is the local Docker engine; kind or k3d work too, see the
README). Without a reachable cluster the cluster-bound tests are skipped, except under CI (env
``CI`` set), where a missing cluster is a failure: CI must not pass by testing nothing. The fast
tests (pod specs, failure states, watch resumption) need no cluster and always run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: The offline base image /work/shared/tools/docker-up.sh builds (Debian bookworm, python3 3.11).
BASE_IMAGE = os.environ.get("FLYTE_DOCKER_TEST_BASE_IMAGE", "flyte-ci/python:3.11-bookworm")
#: The namespace the tests run pods in (made by the `kube` fixture, as `flyte kubernetes setup` does).
NAMESPACE = os.environ.get("FLYTE_K8S_TEST_NAMESPACE", "flyte-e2e")
_DEFAULT_KUBECONFIG = "/var/cache/flyte-ci/k8s/kubeconfig"


def unavailable(reason: str) -> None:
    """Skip, or fail under CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def kube() -> Iterator[Any]:
    """A CoreV1Api on a reachable cluster with the test namespace set up, and the base image."""
    if not os.environ.get("KUBECONFIG") and os.path.exists(_DEFAULT_KUBECONFIG):
        os.environ["KUBECONFIG"] = _DEFAULT_KUBECONFIG  # the CI cluster's, when nothing else is named
    try:
        from flyte_backend_kubernetes import rbac
        from flyte_backend_kubernetes.client import connect
        from kubernetes import client

        for attempt in range(3):  # k8s-up.sh rewrites the kubeconfig in place: retry a torn read
            try:
                api_client, _ = connect()
                client.CoreV1Api(api_client).list_namespace(limit=1, _request_timeout=10)
                break
            except Exception:
                if attempt == 2:
                    raise
                time.sleep(1)
    except Exception as e:
        unavailable(f"no Kubernetes cluster reachable ({type(e).__name__}: {e}); start one with "
                    "/work/shared/tools/k8s-up.sh and export KUBECONFIG")
    try:
        import docker

        docker.from_env().images.get(BASE_IMAGE)
    except Exception as e:
        unavailable(f"base image {BASE_IMAGE} is missing from the Docker engine ({e}); build it with "
                    "/work/shared/tools/docker-up.sh")
    rbac.apply(api_client, rbac.manifests(NAMESPACE))
    yield client.CoreV1Api(api_client)
    api_client.close()


def kube_options(data: Path, **extra: Any) -> dict[str, Any]:
    """Backend options for a session whose data store is ``data``."""
    registry = os.environ.get("FLYTE_K8S_TEST_REGISTRY")  # kind/k3d: their nodes cannot see this engine
    return {"namespace": NAMESPACE, "data_host_path": str(data), "base_image": BASE_IMAGE, "echo": False,
            "image_pull_grace": 5, "unschedulable_grace": 5, "start_grace": 10,
            **({"registry": registry} if registry else {}), **extra}


def pods_of(api: Any, run: str) -> list[str]:
    """Names of the pods of ``run`` that exist (in any state)."""
    from flyte_backend_kubernetes.names import run_selector

    return [p.metadata.name for p in api.list_namespaced_pod(NAMESPACE, label_selector=run_selector(run)).items]


def put_secret(api: Any, name: str, body: Any) -> None:
    """Create the Secret ``body`` in the test namespace, or replace the one a crashed run left."""
    from kubernetes import client

    try:
        api.create_namespaced_secret(NAMESPACE, body)
    except client.ApiException as e:
        if e.status != 409:
            raise
        api.replace_namespaced_secret(name, NAMESPACE, body)
