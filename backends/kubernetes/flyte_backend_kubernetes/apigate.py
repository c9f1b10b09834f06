"""The API gate of a durable run's driver pod: the only process of the pod that holds the
ServiceAccount token, and it never imports user code.

``python -m flyte_backend_kubernetes.apigate POLICY_JSON`` (a :class:`Policy` as JSON)

The driver pod has two containers. ``driver`` runs ``flyte run``, which imports the user's task
modules; it has no token (``automountServiceAccountToken: false``) and reaches the API server
only through this gate, on ``127.0.0.1:GATE_PORT`` (the pod's own loopback: no other pod reaches
it). ``api-gate`` runs this module, with the token projected into it alone; it forwards the
requests flyte-core's controller makes (pods of its namespace: list, watch, get, logs, create,
delete, label/annotate; PodTemplates: get), adding the token, and refuses everything else.

A pod to create is checked against the run's :class:`Policy`, which the machine that launched the
run computed (from the task module's environments and the config) and wrote into this container's
command, where code in the driver container cannot change it. The pod must be a task pod (the run
label); run as a non-root user (``runAsNonRoot``, never ``runAsUser: 0``) unless its environment
label names an environment the config leaves unrestricted; name no Secret but those the run
declared (its environments' secrets, their pod templates' and images' pull Secrets, the data
store's ``data_secret``); get no ServiceAccount token but those its pod templates ask for, never
the driver's own; and may not be privileged, add capabilities, share the node's network, PID or
IPC namespaces, or mount a host folder outside the data store. Deleting and patching are for
flyte-core's own pods only. The driver stops the gate when it is done (``POST`` :data:`STOP_PATH`).
So code that runs in the driver container (a task module's top level) cannot read the token, and
can ask the API server for no more than the controller does (see docs/security.md).

Standard library only: this process must not import anything a task module could shadow.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import ssl
import sys
import threading
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: Where the driver container reaches the gate.
GATE_PORT = 8011
GATE_URL = f"http://127.0.0.1:{GATE_PORT}"
#: ``POST`` here ends the gate: the driver is done (a CronJob's pod completes only when both
#: containers have ended).
STOP_PATH = "/flyte-gate/stop"
#: Where the token, the cluster CA and the namespace are projected (the client library's usual place).
TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
#: Labels of flyte-core's pods (``names.RUN_LABEL``, ``names.DRIVER_LABEL``; not imported: see above).
RUN_LABEL = "flyte-core.org/run"
DRIVER_LABEL = "flyte-core.org/driver-of"
#: The label naming a task pod's environment (``names.ENV_LABEL``).
ENV_LABEL = "flyte-core.org/environment"

_POD = re.compile(r"/api/v1/namespaces/([a-z0-9-]+)/pods(?:/([a-z0-9.-]+)(/log)?)?")
_TEMPLATE = re.compile(r"/api/v1/namespaces/([a-z0-9-]+)/podtemplates/([a-z0-9.-]+)")
_PATCH_FIELDS = {"labels", "annotations"}


class Refused(Exception):
    """A request the gate does not forward; the message says why."""


@dataclass(frozen=True)
class Policy:
    """What the pods of one durable run may be, decided where the run was launched (see the module doc).

    - ``account``: the driver's ServiceAccount, whose token no task pod may get;
    - ``host_roots``: the host folders (the data store) task pods may mount;
    - ``secrets``: the Secrets task pods may name (environment, volumes, image pulls);
    - ``unrestricted``: environment label values whose pods may run as the image's user (root);
    - ``tokens``: ServiceAccounts whose token a task pod may mount (its pod template asks for it);
    - ``user``: the configured task user, named in refusals.
    """

    account: str
    host_roots: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    unrestricted: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    user: int = 65532

    def to_json(self) -> str:
        """The policy as the gate's command-line argument."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Policy:
        """The policy :meth:`to_json` wrote."""
        return cls(**json.loads(text))


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for key in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(key) or []]


def _inside(path: str, roots: list[str]) -> bool:
    path = os.path.normpath(path)
    return any(path == os.path.normpath(r) or path.startswith(os.path.normpath(r).rstrip("/") + "/") for r in roots)


def secret_names(spec: dict[str, Any]) -> list[str]:
    """Every Secret a pod spec (the API's camelCase JSON) names: volumes of any kind (``secret``,
    projected, a CSI or other driver's secret reference), environment variables, image pulls."""
    found = [ref.get("name") for ref in spec.get("imagePullSecrets") or [] if isinstance(ref, dict)]
    for vol in spec.get("volumes") or []:
        found += _volume_secrets(vol)
    for c in _containers(spec):
        found += [(src.get("secretRef") or {}).get("name") for src in c.get("envFrom") or []]
        found += [((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name") for e in c.get("env") or []]
    return [str(n) for n in found if n]


def _volume_secrets(node: Any, key: str = "") -> list[Any]:
    """Secret names anywhere in a volume: ``secretName``, ``{secret,*SecretRef,secretRef}: {name}``."""
    if isinstance(node, list):
        return [n for item in node for n in _volume_secrets(item, key)]
    if not isinstance(node, dict):
        return []
    found = [node.get("name")] if key == "secret" or key.lower().endswith("secretref") else []
    for k, v in node.items():
        if k == "secretName":
            found.append(v)
        else:
            found += _volume_secrets(v, k)
    return found


def check_pod(pod: Any, policy: Policy) -> None:
    """Refuse (:class:`Refused`) a pod the controller would never create for this run."""
    if not isinstance(pod, dict) or not isinstance(pod.get("spec"), dict):
        raise Refused("the body is not a pod")
    labels = (pod.get("metadata") or {}).get("labels") or {}
    if RUN_LABEL not in labels:
        raise Refused(f"only task pods (labelled {RUN_LABEL}) may be created")
    spec, account = pod["spec"], policy.account
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            raise Refused(f"{key} is not allowed")
    _check_account(spec, policy)
    # The legacy token Secret Kubernetes keeps for each ServiceAccount is named "<account>-token-<suffix>".
    for name in secret_names(spec):
        if name.startswith(f"{account}-token-"):
            raise Refused(f"Secret {name} holds the driver's ServiceAccount token")
        if name not in policy.secrets:
            declared = ", ".join(sorted(policy.secrets)) or "none"
            raise Refused(f"Secret {name} is not one the run declared (its environments' secrets, pod templates' "
                          f"and images' pull Secrets, data_secret: {declared}); declare it with flyte.Secret on a "
                          "TaskEnvironment of the task module")
    for c in _containers(spec):
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            raise Refused(f"container '{c.get('name')}' may not be privileged")
        if (sc.get("capabilities") or {}).get("add"):
            raise Refused(f"container '{c.get('name')}' may not add capabilities")
    env = labels.get(ENV_LABEL)
    if env is None or env not in policy.unrestricted:
        _check_non_root(spec, env, policy.user)
    for vol in spec.get("volumes") or []:
        host = vol.get("hostPath")
        if host is not None and not _inside(str(host.get("path", "")), policy.host_roots):
            raise Refused(f"volume '{vol.get('name')}' mounts the host folder {host.get('path')}, outside the data "
                          f"store ({', '.join(policy.host_roots) or 'none'})")
        for source in (vol.get("projected") or {}).get("sources") or []:
            if "serviceAccountToken" in source:
                raise Refused(f"volume '{vol.get('name')}' projects a ServiceAccount token")


def _check_account(spec: dict[str, Any], policy: Policy) -> None:
    """No token of the driver's account; another account's only where a pod template of the run asks."""
    named = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    if spec.get("automountServiceAccountToken") is False:
        return
    if named == policy.account:
        raise Refused(f"task pods may run as the driver's ServiceAccount '{policy.account}' only without its token "
                      "(automountServiceAccountToken: false)")
    if named not in policy.tokens:
        raise Refused(f"task pods get no ServiceAccount token (automountServiceAccountToken: false) unless a pod "
                      f"template of the run asks for one; none asks for the token of ServiceAccount '{named}'")


def _check_non_root(spec: dict[str, Any], env: str | None, user: int) -> None:
    """Every container must run as a non-root user: ``runAsNonRoot`` and no ``runAsUser: 0``,
    on the container or the pod."""
    pod_sc = spec.get("securityContext") or {}
    for c in _containers(spec):
        sc = c.get("securityContext") or {}
        uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True or uid == 0:
            what = f"environment '{env}'" if env else "no environment label"
            raise Refused(
                f"container '{c.get('name')}' (a pod of {what}) may run as root: task pods run as a non-root user "
                f"(runAsNonRoot: true, runAsUser {user} by default, never 0); list the environment in "
                "backends.kubernetes.security.unrestricted_environments if it needs the image's own user")


def check_patch(body: Any) -> None:
    """Only labels and annotations of a pod may change (marking it kept for debugging)."""
    meta = body.get("metadata") if isinstance(body, dict) else None
    if set(body or {}) != {"metadata"} or not isinstance(meta, dict) or not set(meta) <= _PATCH_FIELDS:
        raise Refused("only a pod's labels and annotations may be patched")


class Gate:
    """Decides (by ``policy``) and forwards requests for one namespace, as one ServiceAccount."""

    def __init__(self, namespace: str, policy: Policy, server: str, token_dir: str) -> None:
        self.namespace, self.policy = namespace, policy
        url = urlsplit(server)
        self.host, self.port = url.hostname or "", url.port or 443
        self.token_dir = token_dir
        self._tls: ssl.SSLContext | None = None

    def decide(self, method: str, path: str, body: bytes) -> None:
        """Refuse what the controller never asks for; check what it creates or changes."""
        pod = _POD.fullmatch(path)
        template = _TEMPLATE.fullmatch(path)
        namespace = pod.group(1) if pod else template.group(1) if template else None
        if namespace is None:
            raise Refused(f"{method} {path} is not a request flyte-core makes")
        if namespace != self.namespace:
            raise Refused(f"only namespace '{self.namespace}' is served")
        if template is not None:
            if method != "GET":
                raise Refused("PodTemplates may only be read")
            return
        assert pod is not None
        name, log = pod.group(2), pod.group(3)
        if method == "GET":
            return
        if method == "POST" and name is None:
            check_pod(_json(body), self.policy)
            return
        if method in ("DELETE", "PATCH") and name is not None and log is None:
            if method == "PATCH":
                check_patch(_json(body))
            self._check_ours(name)
            return
        raise Refused(f"{method} {path} is not a request flyte-core makes")

    def _check_ours(self, name: str) -> None:
        status, _, data = self.call("GET", f"/api/v1/namespaces/{self.namespace}/pods/{name}", b"", {})
        if status == 404:
            return  # the API server answers 404 to the request itself
        labels = ((_json(data).get("metadata") or {}).get("labels") or {}) if status == 200 else {}
        if RUN_LABEL not in labels and DRIVER_LABEL not in labels:
            raise Refused(f"pod {name} is not one of flyte-core's")

    def connection(self, timeout: float | None) -> http.client.HTTPSConnection:
        """A new connection to the API server."""
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=os.path.join(self.token_dir, "ca.crt"))
        return http.client.HTTPSConnection(self.host, self.port, context=self._tls, timeout=timeout)

    def headers(self, incoming: dict[str, str]) -> dict[str, str]:
        """The forwarded headers: the client's content negotiation, and this pod's token."""
        with open(os.path.join(self.token_dir, "token")) as f:  # re-read: the kubelet rotates it
            token = f.read().strip()
        keep = {k: v for k, v in incoming.items() if k.lower() in ("content-type", "accept", "user-agent")}
        return {**keep, "Authorization": f"Bearer {token}"}

    def call(self, method: str, target: str, body: bytes, incoming: dict[str, str]) -> tuple[int, str, bytes]:
        """One whole request (for the gate's own checks)."""
        conn = self.connection(30)
        try:
            conn.request(method, target, body=body or None, headers=self.headers(incoming))
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type") or "", resp.read()
        finally:
            conn.close()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise Refused("the body is not JSON") from None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    gate: Gate

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_DELETE = do_PATCH = do_PUT = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if self.command == "POST" and path == STOP_PATH:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return
        try:
            self.gate.decide(self.command, path, body)
        except Refused as e:
            self._refuse(str(e))
            return
        watch = "watch=true" in self.path or "follow=true" in self.path
        conn = self.gate.connection(None if watch else 120)
        try:
            conn.request(self.command, self.path, body=body or None, headers=self.gate.headers(dict(self.headers)))
            resp = conn.getresponse()
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.getheader("Content-Type") or "application/json")
            size = resp.getheader("Content-Length")
            if size is not None:
                data = resp.read()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            # A watch or a followed log: pass each piece on as it comes.
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while chunk := resp.read1(65536):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError as e:
            if not self.wfile.closed:
                self.close_connection = True
                print(f"flyte api-gate: {self.command} {path}: {e}", file=sys.stderr, flush=True)
        finally:
            conn.close()

    def _refuse(self, why: str) -> None:
        message = f"flyte-core's API gate refused {self.command} {urlsplit(self.path).path}: {why}"
        print(message, file=sys.stderr, flush=True)
        data = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": message, "reason": "Forbidden", "code": 403}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown the driver pod's log


def make_server(gate: Gate, port: int) -> ThreadingHTTPServer:
    """An HTTP server of ``gate`` on ``127.0.0.1:port`` (0: any free port); call ``serve_forever``."""
    handler = type("GateHandler", (_Handler,), {"gate": gate})
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    return httpd


def main(argv: list[str] | None = None) -> int:
    """Serve the gate on 127.0.0.1 until the pod ends."""
    (policy,) = sys.argv[1:] if argv is None else argv
    with open(os.path.join(TOKEN_DIR, "namespace")) as f:
        namespace = f.read().strip()
    server = f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"
    httpd = make_server(Gate(namespace, Policy.from_json(policy), server, TOKEN_DIR), GATE_PORT)
    print(f"flyte api-gate: serving namespace {namespace} on {GATE_URL}", file=sys.stderr, flush=True)
    httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
