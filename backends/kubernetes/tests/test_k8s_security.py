"""Nothing escapes its place, on a real cluster: task pods are confined (non-root, no capabilities,
a read-only root, the data store read-only but for their own folders, no API token, no secret they
did not declare), and in a durable run the task module's own top-level code, imported by the
driver pod, finds no ServiceAccount token and cannot create a privileged pod, neither directly
nor through the driver's API gate. The manifests themselves are tested fast in test_k8s_confinement.py."""

from __future__ import annotations

import base64
import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BASE_IMAGE, NAMESPACE, kube_options, put_secret
from test_k8s_cli import cli, project

from flyte_core.extend import Config, Session, load_file

pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("kube")]

TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"

CONFINED = '''
import os
import flyte

env = flyte.TaskEnvironment(name="confined")
root_env = flyte.TaskEnvironment(name="needs_root")


def _tried(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return "written"
    except OSError as e:
        return type(e).__name__


@env.task
def inside(data: str) -> dict[str, str]:
    caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapPrm", "CapBnd"))]
    mine = f"{data}/runs/{flyte.ctx().action.run_name}/raw/mine.txt"
    os.makedirs(os.path.dirname(mine), exist_ok=True)
    return {
        "uid": str(os.getuid()), "gid": str(os.getgid()), "caps": ",".join(caps),
        "no_new_privs": [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0],
        "root_fs": _tried("/escape.txt"), "etc": _tried("/etc/escape.txt"), "tmp": _tried("/tmp/ok.txt"),
        "home": _tried(os.path.expanduser("~/ok.txt")),
        "data_root": _tried(f"{data}/escape.txt"), "other_run": _tried(f"{data}/runs/someone-else.txt"),
        "own_raw": _tried(mine),
        "token": str(os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/token")),
        "secrets": ",".join(sorted(k for k in os.environ if "SECRET" in k or k in ("SEC_VALUE",))),
        "secret_files": str(os.path.exists("/etc/flyte/secrets")),
    }


@root_env.task
def as_image_user() -> str:
    return str(os.getuid())
'''

#: Module-level code of a task module that tries to escape from the driver pod that imports it.
#: It reports what it found in a file of the data store (the test reads it; the driver container
#: mounts the data folder at the same path). Through the gate it tries pods that look like flyte-core's
#: own (the run label, the environment label) but run as root, or name a Secret no environment
#: declares. The module's own tasks declare a Secret and one runs in an unrestricted environment:
#: those pods go through the gate too.
PROBE = '''
import json
import os

import flyte

CONF = {conf!r}


def _pod(name, env, **spec):
    container = {{"name": "primary", "image": CONF["image"], "command": ["sleep", "1"]}}
    container.update(spec.pop("container", {{}}))
    return {{"apiVersion": "v1", "kind": "Pod",
            "metadata": {{"name": name, "labels": {{"flyte-core.org/run": CONF["run"],
                                                  "flyte-core.org/environment": env}}}},
            "spec": {{"restartPolicy": "Never", "automountServiceAccountToken": False,
                     "containers": [container], **spec}}}}


def _probe():
    from kubernetes import client

    found = {{"token": os.path.exists(CONF["token"])}}
    evil = CONF["evil"]
    tries = {{
        # privileged, the node's root folder
        "pod": _pod(evil + "-priv", "probe", container={{"securityContext": {{"privileged": True}},
                                                          "volumeMounts": [{{"name": "h", "mountPath": "/host"}}]}},
                    volumes=[{{"name": "h", "hostPath": {{"path": "/"}}}}]),
        # root, otherwise harmless
        "root": _pod(evil + "-root", "probe", securityContext={{"runAsUser": 0}}),
        # a restricted pod naming a Secret no environment of the run declares
        "undeclared": _pod(evil + "-sec", "probe", securityContext={{"runAsNonRoot": True, "runAsUser": 65532}},
                           container={{"env": [{{"name": "X", "valueFrom": {{"secretKeyRef": {{
                               "name": CONF["undeclared"], "key": "value"}}}}}}]}}),
    }}
    ns = os.environ.get("POD_NAMESPACE", "default")
    routes = {{"api_server": "https://" + os.environ["KUBERNETES_SERVICE_HOST"] + ":"
               + os.environ.get("KUBERNETES_SERVICE_PORT", "443")}}
    if os.environ.get("FLYTE_KUBE_GATE"):
        routes["gate"] = os.environ["FLYTE_KUBE_GATE"]
    for route, host in routes.items():
        cfg = client.Configuration()
        cfg.host, cfg.verify_ssl = host, False
        api = client.CoreV1Api(client.ApiClient(cfg))
        calls = {{what: (lambda body=body: api.create_namespaced_pod(ns, body)) for what, body in tries.items()}}
        calls["secrets"] = lambda: api.list_namespaced_secret(ns)
        for what, call in calls.items():
            try:
                call()
                found[route + "_" + what] = "allowed"
            except client.ApiException as e:
                found[route + "_" + what] = e.status
                found[route + "_" + what + "_why"] = json.loads(e.body or "{{}}").get("message", "")
            except Exception as e:
                found[route + "_" + what] = type(e).__name__
    with open(CONF["report"], "w") as f:
        json.dump(found, f)


if os.environ.get("POD_NAME", "").endswith("-driver"):  # only where the driver imports this module
    _probe()

env = flyte.TaskEnvironment(name="probe", secrets=[flyte.Secret(CONF["declared"], as_env_var="DECLARED")])
root_env = flyte.TaskEnvironment(name="probe_root")


@root_env.task
def whoami() -> str:
    return str(os.getuid())


@env.task
def hello() -> str:
    return "hi " + str(os.path.exists(CONF["token"])) + " " + os.environ["DECLARED"] + " " + whoami()
'''


@pytest.fixture
def secret(kube: Any) -> Iterator[str]:
    """A Secret of the test namespace that no task of CONFINED declares."""
    from kubernetes import client

    name = f"flyte-undeclared-{uuid.uuid4().hex[:6]}"
    put_secret(kube, name, client.V1Secret(metadata=client.V1ObjectMeta(name=name),
                                           data={"value": base64.b64encode(b"never-seen-value").decode()}))
    yield name
    kube.delete_namespaced_secret(name, NAMESPACE)


def test_a_task_pod_is_confined(tmp_path: Path, kube: Any, secret: str) -> None:
    (tmp_path / "confined_tasks.py").write_text(CONFINED)
    sys.modules.pop("confined_tasks", None)
    tasks = load_file(tmp_path / "confined_tasks.py", tmp_path)
    data = tmp_path / "data"
    opts = kube_options(data, security={"unrestricted_environments": ["needs_root"]})
    s = Session(config=Config(), backend="kubernetes", backend_options=opts, data_url=str(data),
                run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    try:
        run = s.run(tasks.inside, data=str(data))
        seen = run.outputs()[0]
        assert (seen["uid"], seen["gid"]) == ("65532", "65532"), seen
        assert seen["caps"] == "0000000000000000,0000000000000000,0000000000000000", seen
        assert seen["no_new_privs"] == "1", seen
        assert seen["root_fs"] == seen["etc"] == "OSError", seen  # EROFS: a read-only root filesystem
        assert seen["tmp"] == seen["home"] == "written", seen
        # The data store is not mounted (only the run's folder, read-only, and this attempt's own
        # folders): its root and its runs folder are the pod's own read-only mount points.
        assert seen["data_root"] != "written" and seen["other_run"] != "written", seen
        assert seen["own_raw"] == "written", seen
        assert seen["token"] == "False", seen
        assert seen["secrets"] == "" and seen["secret_files"] == "False", seen
        # An unrestricted environment runs as the image's user (root in the test image).
        assert s.run(tasks.as_image_user).outputs()[0] == "0"
    finally:
        s.close()
    assert not (data / "escape.txt").exists() and not (data / "runs" / "someone-else.txt").exists()


def test_a_task_module_imported_by_the_driver_finds_no_token_and_cannot_create_pods(tmp_path: Path, kube: Any,
                                                                                     secret: str) -> None:
    """Module-level code in the driver container gets no token, and through the API gate can create
    neither a privileged pod, nor a root one, nor one naming a Secret the run did not declare; the
    run's own tasks (a declared Secret, an unrestricted environment) still run through the gate."""
    from kubernetes import client

    run = f"sec2-{uuid.uuid4().hex[:8]}"  # this run only: others may run the suite on the cluster
    evil = f"{run}-evil"
    declared = f"gate-declared-{uuid.uuid4().hex[:6]}"
    put_secret(kube, f"flyte-{declared}", client.V1Secret(metadata=client.V1ObjectMeta(name=f"flyte-{declared}"),
                                                          data={"value": base64.b64encode(b"ok").decode()}))
    proj = project(tmp_path)
    conf_file = proj / ".flyte" / "config.yaml"
    conf = yaml.safe_load(conf_file.read_text())
    conf["backends"]["kubernetes"]["security"] = {"unrestricted_environments": ["probe_root"]}
    conf_file.write_text(yaml.safe_dump(conf))
    report = proj / "data" / "probe-report.json"
    (proj / "probe.py").write_text(PROBE.format(conf={
        "report": str(report), "token": TOKEN, "evil": evil, "run": run, "undeclared": secret,
        "declared": declared, "image": BASE_IMAGE}))
    try:
        r = cli(proj, "run", "--name", run, "probe.py", "hello")
        assert r.returncode == 0, r.stderr
        # The task pods have no token either; the declared Secret reached its task; the
        # unrestricted environment's pod ran as the image's user (root).
        assert r.stdout == "hi False ok 0\n"
        found = json.loads(report.read_text())
        assert found["token"] is False, found
        # Straight to the API server, the driver container is anonymous; through the gate, refused.
        assert all(found[f"api_server_{what}"] in (401, 403) for what in ("pod", "root", "undeclared", "secrets")), \
            found
        assert all(found[f"gate_{what}"] == 403 for what in ("pod", "root", "undeclared", "secrets")), found
        assert "may run as root" in found["gate_root_why"], found
        assert f"Secret {secret} is not one the run declared" in found["gate_undeclared_why"], found
        assert "privileged" in found["gate_pod_why"], found
    finally:
        kube.delete_namespaced_secret(f"flyte-{declared}", NAMESPACE)
        for suffix in ("priv", "root", "sec"):
            try:
                kube.delete_namespaced_pod(f"{evil}-{suffix}", NAMESPACE, grace_period_seconds=0)
            except client.ApiException as e:
                assert e.status == 404


@pytest.fixture
def gate_api(tmp_path: Path, kube: Any) -> Iterator[tuple[Any, Any]]:
    """The API gate of a driver pod, run here on a free port with a token of ``flyte-runner`` (as the
    kubelet projects it into the api-gate container): a client through it, and one with the token
    itself."""
    import shutil
    import threading

    from flyte_backend_kubernetes import rbac
    from flyte_backend_kubernetes.apigate import Gate, Policy, make_server
    from kubernetes import client

    cfg = kube.api_client.configuration
    request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[],
                                                                                 expiration_seconds=600))
    token = kube.create_namespaced_service_account_token(rbac.DEFAULT_ACCOUNT, NAMESPACE, request).status.token
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(token)
    shutil.copy(cfg.ssl_ca_cert, sa / "ca.crt")
    policy = Policy(account=rbac.DEFAULT_ACCOUNT, host_roots=[str(tmp_path / "data")])
    httpd = make_server(Gate(NAMESPACE, policy, cfg.host, str(sa)), 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    through = client.Configuration()
    through.host = f"http://127.0.0.1:{httpd.server_address[1]}"
    direct = client.Configuration()
    direct.host, direct.ssl_ca_cert = cfg.host, str(sa / "ca.crt")
    direct.api_key = {"authorization": f"Bearer {token}"}
    apis = client.CoreV1Api(client.ApiClient(through)), client.CoreV1Api(client.ApiClient(direct))
    yield apis
    httpd.shutdown()
    for api in apis:
        api.api_client.close()


def pod_manifest(name: str, run: str, data: Path, **container: Any) -> dict[str, Any]:
    from flyte_backend_kubernetes.names import RUN_LABEL

    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {RUN_LABEL: run}},
            "spec": {"restartPolicy": "Never", "serviceAccountName": "flyte-runner",
                     "automountServiceAccountToken": False,
                     "securityContext": {"runAsNonRoot": True, "runAsUser": 65532},
                     "containers": [{"name": "primary", "image": "flyte-ci/python:3.11-bookworm",
                                     "command": ["true"], "volumeMounts": [{"name": "d", "mountPath": "/d"}],
                                     **container}],
                     "volumes": [{"name": "d", "hostPath": {"path": str(data)}}]}}


def test_the_api_gate_forwards_what_the_controller_needs_and_refuses_the_rest(tmp_path: Path, kube: Any,
                                                                              gate_api: tuple[Any, Any]) -> None:
    from kubernetes import client, watch

    gate, direct = gate_api
    run = f"sec3-{uuid.uuid4().hex[:8]}"  # this run only: others may run the suite on the cluster
    data = tmp_path / "data"
    ours, privileged, foreign = f"{run}-ok", f"{run}-priv", f"{run}-foreign"
    try:
        gate.create_namespaced_pod(NAMESPACE, pod_manifest(ours, run, data))
        assert gate.read_namespaced_pod(ours, NAMESPACE).metadata.labels["flyte-core.org/run"] == run
        # A watch streams through the gate.
        seen = [e["object"].metadata.name for e in watch.Watch().stream(
            gate.list_namespaced_pod, NAMESPACE, label_selector=f"flyte-core.org/run={run}", timeout_seconds=3)]
        assert seen[:1] == [ours]
        gate.patch_namespaced_pod(ours, NAMESPACE, {"metadata": {"annotations": {"flyte-core.org/expires": "1"}}})
        refused = {
            "privileged": lambda: gate.create_namespaced_pod(NAMESPACE, pod_manifest(
                privileged, run, data, securityContext={"privileged": True})),
            "host root": lambda: gate.create_namespaced_pod(NAMESPACE, pod_manifest(privileged, run, Path("/"))),
            "secrets": lambda: gate.list_namespaced_secret(NAMESPACE),
            "spec patch": lambda: gate.patch_namespaced_pod(ours, NAMESPACE, {"spec": {"activeDeadlineSeconds": 1}}),
        }
        for what, call in refused.items():
            with pytest.raises(client.ApiException) as ei:
                call()
            assert ei.value.status == 403 and "API gate refused" in (ei.value.body or ""), what
        # A pod flyte-core did not make is not the gate's to delete.
        kube.create_namespaced_pod(NAMESPACE, {**pod_manifest(foreign, run, data), "metadata": {"name": foreign}})
        with pytest.raises(client.ApiException) as ei:
            gate.delete_namespaced_pod(foreign, NAMESPACE)
        assert ei.value.status == 403 and "not one of flyte-core's" in (ei.value.body or "")
        gate.delete_namespaced_pod(ours, NAMESPACE, grace_period_seconds=0)
        # The token itself cannot read Secrets either (the Role), but could create the privileged
        # pod (RBAC cannot restrict a pod's shape): which is why only the gate holds it.
        with pytest.raises(client.ApiException) as ei:
            direct.list_namespaced_secret(NAMESPACE)
        assert ei.value.status == 403
        direct.create_namespaced_pod(NAMESPACE, pod_manifest(privileged, run, data, securityContext={
            "privileged": True}), dry_run="All")
    finally:
        for name in (ours, privileged, foreign):
            try:
                kube.delete_namespaced_pod(name, NAMESPACE, grace_period_seconds=0)
            except client.ApiException as e:
                assert e.status == 404
