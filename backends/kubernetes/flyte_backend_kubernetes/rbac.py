"""The namespace, ServiceAccount, Role and RoleBinding a run needs: ``flyte kubernetes rbac``
prints them, ``flyte kubernetes setup`` applies them.

The Role is the least that works for a controller driving a run from inside the cluster: pods
(create, get, list, watch, delete, patch — patch only to mark pods kept for debugging) and
pods/log (get), in one namespace. Nothing cluster-wide, no Secrets (task pods reference Secrets
by name; the kubelet, not flyte-core, reads them).
"""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes import client

from flyte_backend_kubernetes.names import MANAGED_LABEL

DEFAULT_NAMESPACE = "flyte"
DEFAULT_ACCOUNT = "flyte-runner"
RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "get", "list", "watch", "delete", "patch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]


def manifests(namespace: str = DEFAULT_NAMESPACE, account: str = DEFAULT_ACCOUNT) -> list[dict[str, Any]]:
    """Namespace, ServiceAccount, Role and RoleBinding (core/v1 and rbac/v1 only)."""
    labels = {MANAGED_LABEL: "flyte-core"}
    meta = {"name": account, "namespace": namespace, "labels": labels}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": RULES},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account},
         "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]},
    ]


def render(docs: list[dict[str, Any]]) -> str:
    """The manifests as one multi-document YAML stream (for ``kubectl apply -f -``)."""
    return "---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)


def apply(api_client: client.ApiClient, docs: list[Any]) -> list[str]:
    """Create each manifest, or replace it when it exists; return ``kind/name: created|updated``."""
    core, rbac = client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)
    done = []
    for doc in docs:  # the client takes plain dicts as bodies as well as its models
        kind, name = doc["kind"], doc["metadata"]["name"]
        ns = doc["metadata"].get("namespace")
        try:
            if kind == "Namespace":
                core.create_namespace(doc)
            elif kind == "ServiceAccount":
                core.create_namespaced_service_account(ns, doc)
            elif kind == "Role":
                rbac.create_namespaced_role(ns, doc)
            else:
                rbac.create_namespaced_role_binding(ns, doc)
            done.append(f"{kind}/{name}: created")
        except client.ApiException as e:
            if e.status != 409:
                raise
            # Exists: bring ours up to date (a namespace has nothing of ours to update).
            if kind == "ServiceAccount":
                core.patch_namespaced_service_account(name, ns, doc)
            elif kind == "Role":
                rbac.replace_namespaced_role(name, ns, doc)
            elif kind == "RoleBinding":
                rbac.replace_namespaced_role_binding(name, ns, doc)
            done.append(f"{kind}/{name}: {'exists' if kind == 'Namespace' else 'updated'}")
    return done
