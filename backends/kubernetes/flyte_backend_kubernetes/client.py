"""Connecting to a cluster: the kubeconfig's context, or the in-cluster ServiceAccount.

Each backend gets its own ``ApiClient`` built from its own ``Configuration`` — never the client
library's global default — so two runs (or two embedders) on different clusters do not interfere.
"""

from __future__ import annotations

import os
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from flyte_core.extend import FlyteUsageError

#: Where a pod finds its ServiceAccount's namespace.
_SA_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
#: In a durable run's driver container: the URL of the pod's API gate (``apigate``), which holds
#: the token this container has not got.
GATE_ENV = "FLYTE_KUBE_GATE"


def in_cluster() -> bool:
    """True inside a pod that can use its ServiceAccount to reach the API server."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and os.path.exists(_SA_NAMESPACE)


def connect(context: str | None = None, kubeconfig: str | None = None) -> tuple[client.ApiClient, str]:
    """An API client and the namespace its context names (``default`` when none)."""
    cfg = client.Configuration()
    try:
        if kubeconfig is None and context is None and os.environ.get(GATE_ENV):
            cfg.host = os.environ[GATE_ENV]
            namespace = os.environ.get("POD_NAMESPACE") or "default"
        elif kubeconfig is None and context is None and in_cluster():
            config.load_incluster_config(client_configuration=cfg)
            with open(_SA_NAMESPACE) as f:
                namespace = f.read().strip() or "default"
        else:
            # $KUBECONFIG as it is now: the client library reads it once, when first imported.
            kubeconfig = kubeconfig or os.environ.get("KUBECONFIG") or None
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg,
                                    persist_config=False)
            namespace = _context_namespace(kubeconfig, context)
    except (ConfigException, OSError, TypeError) as e:
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise FlyteUsageError(
            f"The kubernetes backend found no usable cluster configuration ({e}); point KUBECONFIG (now "
            f"{where}) at a kubeconfig, or set backends.kubernetes.kubeconfig / context."
        ) from None
    # Many concurrent actions share one client: give its connection pool room for all of them.
    cfg.connection_pool_maxsize = max(cfg.connection_pool_maxsize or 0, 32)
    return client.ApiClient(cfg), namespace


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)
    chosen: dict[str, Any] | None = current
    if context is not None:
        chosen = next((c for c in contexts if c.get("name") == context), None)
    ns = ((chosen or {}).get("context") or {}).get("namespace")
    return str(ns) if ns else "default"


def check_access(api: client.CoreV1Api, namespace: str) -> None:
    """Fail early, in words, when the cluster cannot be reached or pods cannot be listed."""
    try:
        api.list_namespaced_pod(namespace, limit=1, _request_timeout=15)
    except client.ApiException as e:
        if e.status == 404:
            raise FlyteUsageError(
                f"Namespace '{namespace}' does not exist; create it with `flyte kubernetes setup --namespace "
                f"{namespace}` or choose another (backends.kubernetes.namespace).") from None
        if e.status in (401, 403):
            raise FlyteUsageError(
                f"The cluster refused to list pods in namespace '{namespace}' ({e.status} {e.reason}); "
                "`flyte kubernetes rbac` prints the permissions the backend needs.") from None
        raise FlyteUsageError(f"The Kubernetes API server answered {e.status} {e.reason} when listing pods in "
                              f"namespace '{namespace}'.") from None
    except Exception as e:
        host = api.api_client.configuration.host
        raise FlyteUsageError(f"The kubernetes backend cannot reach the API server at {host} ({type(e).__name__}: "
                              f"{e}); is the cluster running and KUBECONFIG right?") from None
