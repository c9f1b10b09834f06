"""``flyte.Secret``s as references to Kubernetes Secrets; no value ever passes through flyte-core.

Each flyte secret is one Kubernetes Secret in the run's namespace, named by
:func:`~flyte_backend_kubernetes.names.secret_name` (``flyte-<group>-<key>``, or ``flyte-<key>``
without a group), its value under the data key ``value``::

    kubectl create secret generic flyte-api-token -n NAMESPACE --from-literal=value=...

A secret without ``mount`` becomes an environment variable (``secretKeyRef``); one with
``mount="/etc/flyte/secrets"`` a read-only file ``/etc/flyte/secrets/<group>/<key>`` (one projected
volume for all of a task's file secrets). The pod spec holds only names, so nothing secret lands
in labels, annotations, logs or the run store. A missing Secret keeps the pod from starting; the
backend reports it with the ``kubectl`` line above (see :func:`missing_secrets_hint`).
"""

from __future__ import annotations

from typing import Any

from flyte_backend_kubernetes.names import SECRET_KEY, secret_name
from flyte_core.extend import Secret, secret_id, to_secrets

MOUNT = "/etc/flyte/secrets"
VOLUME = "flyte-secrets"


def secret_refs(request: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Environment entries, volumes and volume mounts delivering the secrets of ``request``
    (a task environment's ``secrets``)."""
    env: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for secret in to_secrets(request):
        name = secret_name(secret)
        if secret.mount is not None:
            items.append({"secret": {"name": name, "items": [{"key": SECRET_KEY, "path": secret_id(secret),
                                                               "mode": 0o400}]}})
        else:
            env.append({"name": secret.as_env_var, "valueFrom": {"secretKeyRef": {"name": name, "key": SECRET_KEY}}})
    if not items:
        return env, [], []
    volume = {"name": VOLUME, "projected": {"sources": items, "defaultMode": 0o400}}
    return env, [volume], [{"name": VOLUME, "mountPath": MOUNT, "readOnly": True}]


def missing_secrets_hint(request: Any, namespace: str, files_only: bool = False) -> str:
    """How to create the Secrets a task needs, for the message of a pod that could not start."""
    secrets: list[Secret] = [s for s in to_secrets(request) if not files_only or s.mount is not None]
    if not secrets:
        return ""
    lines = [f"  kubectl create secret generic {secret_name(s)} -n {namespace} --from-literal={SECRET_KEY}=..."
             f"   # flyte.Secret '{secret_id(s)}'" for s in secrets]
    return "Create the task's Secrets (if they are missing) with:\n" + "\n".join(lines)
