"""Names Kubernetes accepts: pod names, label values, Secret names; and the labels of task pods.

Kubernetes restricts names (DNS-1123: lower-case alphanumerics and ``-``) and label values (at
most 63 characters of ``[A-Za-z0-9_.-]``, alphanumeric at both ends). Run and task names are
freer, so everything is passed through :func:`label_value` / :func:`dns_name`, which keep short
valid names as they are and shorten long ones with a hash suffix, so two different inputs never
collapse into one name.
"""

from __future__ import annotations

import hashlib
import re

from flyte_core.extend import Secret

#: Label keys on every task pod (values never carry anything secret).
RUN_LABEL = "flyte-core.org/run"
#: Label of a durable run's driver pod; its value is the run's name (not RUN_LABEL: closing the
#: run's backend inside the driver must not delete the driver itself).
DRIVER_LABEL = "flyte-core.org/driver-of"
ACTION_LABEL = "flyte-core.org/action"
TASK_LABEL = "flyte-core.org/task"
ATTEMPT_LABEL = "flyte-core.org/attempt"
#: The task's environment (a durable run's API gate lets pods of unrestricted ones run as root).
ENV_LABEL = "flyte-core.org/environment"
#: Annotations: the controller process (pid@host), the full task name, and when a pod kept for
#: debugging may be deleted (unix seconds).
CONTROLLER_ANNOTATION = "flyte-core.org/controller"
TASK_ANNOTATION = "flyte-core.org/task-name"
EXPIRES_ANNOTATION = "flyte-core.org/expires"
#: Label on the namespace, ServiceAccount, Role and RoleBinding ``flyte kubernetes setup`` makes.
MANAGED_LABEL = "app.kubernetes.io/managed-by"

_LABEL_BAD = re.compile(r"[^A-Za-z0-9_.-]+")
_DNS_BAD = re.compile(r"[^a-z0-9-]+")


def _digest(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def label_value(text: str) -> str:
    """``text`` as a valid label value (itself when it already is one)."""
    clean = _LABEL_BAD.sub("-", text).strip("-_.")
    if clean == text and len(text) <= 63:
        return text
    # Changed or too long: a hash of the original keeps distinct inputs distinct.
    return f"{clean[:54].strip('-_.')}-{_digest(text)}".strip("-")


def dns_name(text: str, limit: int = 63) -> str:
    """``text`` as a DNS-1123 label (pod and Secret names), at most ``limit`` characters."""
    clean = _DNS_BAD.sub("-", text.lower()).strip("-")
    if clean == text and len(text) <= limit:
        return text
    return f"{clean[:limit - 9].strip('-')}-{_digest(text)}".strip("-")


def pod_name(run: str, action: str, attempt: int) -> str:
    """The pod of one attempt: ``<run>-<action>-<attempt>`` (``a0.1`` becomes ``a0-1``)."""
    return dns_name(f"{run}-{action.replace('.', '-')}-{attempt}")


def run_selector(run: str) -> str:
    """The label selector of every pod of ``run``."""
    return f"{RUN_LABEL}={label_value(run)}"


def pod_labels(run: str, action: str, task: str, attempt: int, environment: str | None = None) -> dict[str, str]:
    """Labels of an attempt's pod."""
    return {RUN_LABEL: label_value(run), ACTION_LABEL: label_value(action), TASK_LABEL: label_value(task),
            ATTEMPT_LABEL: str(attempt), **({ENV_LABEL: label_value(environment)} if environment else {})}


def secret_name(secret: Secret) -> str:
    """The Kubernetes Secret holding ``secret``: ``flyte-<group>-<key>`` or ``flyte-<key>``, lower
    case, with any character other than ``a-z``, ``0-9`` and ``-`` turned into ``-``.

    Its value is under the data key ``value``, e.g.::

        kubectl create secret generic flyte-db-db-pass --from-literal=value=...
    """
    raw = f"flyte-{secret.group}-{secret.key}" if secret.group else f"flyte-{secret.key}"
    # Predictable for users (no hash): lower case, every other character run becomes "-".
    clean = _DNS_BAD.sub("-", raw.lower()).strip("-")
    return clean if len(clean) <= 253 else dns_name(raw, 253)


#: The data key of a flyte secret's value inside its Kubernetes Secret.
SECRET_KEY = "value"
