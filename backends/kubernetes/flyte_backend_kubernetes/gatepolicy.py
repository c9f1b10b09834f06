"""What a durable run's task pods may be, worked out where the run is launched (this machine,
with the user's own credentials) and handed to the driver pod's API gate in its command, where
code running in the driver container cannot change it (see ``apigate`` and docs/security.md).

The run may use what its task module declares: the Secrets of its environments' ``flyte.Secret``
s, of their pod templates and of their images' ``registry_secret``, and the data store's
``data_secret``; the tokens of ServiceAccounts its pod templates ask for
(``automountServiceAccountToken: true``); root only in the environments the config lists in
``security.unrestricted_environments``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kubernetes import client

from flyte_backend_kubernetes.apigate import Policy, secret_names
from flyte_backend_kubernetes.names import label_value, secret_name
from flyte_backend_kubernetes.options import KubeOptions
from flyte_backend_kubernetes.podspec import image_pull_secrets
from flyte_backend_kubernetes.runsetup import resolve_template
from flyte_backend_kubernetes.template import template_parts
from flyte_core.extend import FlyteUsageError, TaskEnvironment, tasks_in, to_secrets


def environments(module: Any) -> list[TaskEnvironment]:
    """The task environments a module's tasks use, with the ones they depend on."""
    found: dict[int, TaskEnvironment] = {}
    todo = [t.env for t in tasks_in(module).values()] + [v for v in vars(module).values()
                                                          if isinstance(v, TaskEnvironment)]
    while todo:
        env = todo.pop()
        if id(env) not in found:
            found[id(env)] = env
            todo.extend(env.depends_on)
    return list(found.values())


def gate_policy(module: Any, opts: KubeOptions, account: str, host_roots: list[str],
                api: client.CoreV1Api | None = None, namespace: str = "default") -> Policy:
    """The :class:`~flyte_backend_kubernetes.apigate.Policy` of a durable run of ``module``'s tasks;
    ``api`` reads the PodTemplates tasks name (``pod_template="name"``)."""
    envs = environments(module)
    templates = [env.pod_template for env in envs] + [t.pod_template for t in tasks_in(module).values()]
    secrets = {secret_name(s) for env in envs for s in to_secrets(env.secrets)}
    secrets |= {name for env in envs for name in image_pull_secrets(env.image_spec)}
    if opts.data_secret:
        secrets.add(opts.data_secret)
    tokens = set()
    for template in templates:
        if isinstance(template, str):
            if api is None:
                continue
            # A missing or unreadable one fails the task's pod on its own: nothing to allow.
            with contextlib.suppress(FlyteUsageError):
                template = resolve_template(api, template, namespace)
        spec = template_parts(template)[0] if template is not None and not isinstance(template, str) else {}
        secrets.update(secret_names(spec))
        if spec.get("automountServiceAccountToken") is True:
            tokens.add(spec.get("serviceAccountName") or opts.service_account or "default")
    return Policy(account=account, host_roots=sorted(host_roots), secrets=sorted(secrets),
                  unrestricted=sorted(label_value(n) for n in opts.security.unrestricted_environments),
                  tokens=sorted(tokens - {account}), user=opts.security.uid_gid[0])
