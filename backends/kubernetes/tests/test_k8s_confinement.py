"""Fast tests of how task pods are confined and of the driver pod's API gate: pure functions on
manifests and requests, no cluster (the gate's decisions are made before anything is forwarded).
The real-cluster tests of the same behaviours are in test_k8s_security.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flyte_backend_kubernetes import names
from flyte_backend_kubernetes.apigate import Gate, Policy, Refused, check_pod
from flyte_backend_kubernetes.confinement import PodMounts, confinement, local_path, pod_mounts, task_ids, writable
from flyte_backend_kubernetes.durable import driver_pod
from flyte_backend_kubernetes.gatepolicy import gate_policy
from flyte_backend_kubernetes.options import KubeOptions, SecurityOptions
from flyte_backend_kubernetes.podspec import Confinement, PodRequest, build_pod
from flyte_backend_kubernetes.runsetup import DataAccess

import flyte
from flyte_core.extend import ConfigError, StoreView

CONFINED = Confinement(uid=65532, gid=65532, scratch=("/flyte/code",))


def request(**kw: object) -> PodRequest:
    base: dict[str, object] = dict(name="r1-a0-1", namespace="ns", run="r1", action="a0", attempt=1,
                                   task="env.step", image="img:1", command=["python", "-m", "w"])
    base.update(kw)
    return PodRequest(**base)  # type: ignore[arg-type]


def container(pod: dict[str, Any], name: str = "primary") -> dict[str, Any]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == name)


def test_a_confined_pod_is_non_root_without_capabilities_on_a_read_only_root() -> None:
    pod = build_pod(request(confinement=CONFINED))
    assert pod["spec"]["securityContext"] == {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                              "fsGroup": 65532}
    assert container(pod)["securityContext"] == {"allowPrivilegeEscalation": False,
                                                 "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True}
    assert pod["spec"]["automountServiceAccountToken"] is False
    scratch = {v["name"] for v in pod["spec"]["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"] for m in container(pod)["volumeMounts"] if m["name"] in scratch}
    assert mounts == {"/tmp", "/flyte/code"}
    assert {"name": "HOME", "value": "/tmp"} in container(pod)["env"]


def test_an_unconfined_pod_keeps_the_image_user() -> None:
    pod = build_pod(request())
    assert "securityContext" not in pod["spec"] and "securityContext" not in container(pod)


def test_a_pod_template_opts_out_key_by_key() -> None:
    tpl = flyte.PodTemplate(pod_spec={
        "containers": [{"name": "primary", "securityContext": {"runAsUser": 0, "privileged": True}}],
        "securityContext": {"fsGroup": 100}})
    pod = build_pod(request(confinement=CONFINED, pod_template=tpl))
    # The template names the user: no default user (runAsNonRoot would contradict runAsUser 0).
    assert pod["spec"]["securityContext"] == {"fsGroup": 100}
    # Privileged: the API refuses allowPrivilegeEscalation false beside it, so it is left out.
    assert container(pod)["securityContext"] == {"capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True,
                                                 "runAsUser": 0, "privileged": True}
    writable_root = flyte.PodTemplate(pod_spec={"containers": [{"name": "primary", "securityContext": {
        "readOnlyRootFilesystem": False}}]})
    pod = build_pod(request(confinement=CONFINED, pod_template=writable_root))
    assert container(pod)["securityContext"]["readOnlyRootFilesystem"] is False
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    # A task that needs the API asks for its ServiceAccount's token.
    api = flyte.PodTemplate(pod_spec={"automountServiceAccountToken": True, "serviceAccountName": "reader"})
    assert build_pod(request(confinement=CONFINED, pod_template=api))["spec"]["automountServiceAccountToken"] is True


def test_the_data_store_is_read_only_but_for_the_attempts_own_folders() -> None:
    pod = build_pod(request(host_paths=["/data"], writable_paths=["/data/runs/r1/data/a0-1", "/data/runs/r1/k8s"],
                            confinement=CONFINED))
    mounts = {m["mountPath"]: m.get("readOnly", False) for m in container(pod)["volumeMounts"]}
    assert mounts["/data"] is True
    assert mounts["/data/runs/r1/data/a0-1"] is False and mounts["/data/runs/r1/k8s"] is False


def test_a_pod_mounts_its_runs_folders_and_its_attempts_own_never_the_store(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run, old = data / "runs" / "r2", data / "runs" / "r1"
    old.mkdir(parents=True)
    view = StoreView.of_run(str(data), str(run), [str(old)])
    assert view is not None
    attempt = str(data / "k8s" / "r2" / "a1-2")
    mounts = pod_mounts(view, str(data), action="a1", data_prefix=f"file://{run}/data/a1-2",
                        raw_data_path=f"{run}/raw", attempt_folder=attempt, channel_dir=str(data / "ch" / "h"),
                        bundle=f"file://{data}/bundles/b.tar.gz")
    assert mounts == PodMounts(
        read_only=(str(run), str(old), str(data / "ch" / "h")),
        writable=(attempt, f"{run}/data/a1-2", f"{run}/a1", f"{run}/raw"),
        files=(f"{data}/bundles/b.tar.gz",))
    # A raw data folder or a bundle outside the store is not mounted (the API gate would refuse it).
    elsewhere = pod_mounts(view, str(data), action="a1", data_prefix=f"{run}/data/a1-2", raw_data_path="/srv/raw",
                           attempt_folder=attempt, channel_dir=None, bundle="/srv/b.tar.gz")
    assert elsewhere.writable == (attempt, f"{run}/data/a1-2", f"{run}/a1") and elsewhere.files == ()
    assert elsewhere.read_only == (str(run), str(old))
    pod = build_pod(request(host_paths=mounts.read_only, writable_paths=mounts.writable, host_files=mounts.files,
                            confinement=CONFINED))
    volumes = {v["name"]: v["hostPath"] for v in pod["spec"]["volumes"] if "hostPath" in v}
    seen = {m["mountPath"]: (m.get("readOnly", False), volumes[m["name"]]["type"])
            for m in container(pod)["volumeMounts"] if m["name"] in volumes}
    assert seen == {str(run): (True, "Directory"), str(old): (True, "Directory"),
                    str(data / "ch" / "h"): (True, "Directory"), attempt: (False, "Directory"),
                    f"{run}/data/a1-2": (False, "Directory"), f"{run}/a1": (False, "Directory"),
                    f"{run}/raw": (False, "Directory"), f"{data}/bundles/b.tar.gz": (True, "File")}
    # Neither the store, nor the cache, nor the run's other attempts' folders.
    assert all(not p.startswith((f"{data}/cache", f"{data}/k8s/r2/a0")) and p != str(data) for p in seen)


def test_writable_folders_are_made_and_given_to_the_task_user(tmp_path: Path) -> None:
    target = tmp_path / "runs" / "r1" / "data" / "a0-1"
    owner = (os.getuid() + 1, os.getgid() + 1) if os.geteuid() == 0 else None
    assert writable([str(target)], owner) == [str(target)]
    st = target.stat()
    if owner is not None:
        assert (st.st_uid, st.st_gid) == owner and st.st_mode & 0o7777 == 0o2775
    assert local_path(f"file://{target}", str(tmp_path)) == str(target)
    assert local_path("s3://bucket/x", str(tmp_path)) is None
    assert local_path("/elsewhere/x", str(tmp_path)) is None


def test_security_options_and_unrestricted_environments() -> None:
    sec = KubeOptions.parse({"security": {"user": "1000:2000", "read_only_root": False,
                                          "unrestricted_environments": ["needs-root"]}}).security
    assert sec.uid_gid == (1000, 2000)
    assert confinement(sec, sec.uid_gid, "needs-root") is None
    assert confinement(sec, sec.uid_gid, "other") == Confinement(uid=1000, gid=2000, read_only_root=False)
    assert SecurityOptions(user="7").uid_gid == (7, 7)
    # A remote store needs no folder given away: the configured user, whoever runs the controller.
    assert task_ids(sec, None) == (1000, 2000)
    for bad, key in (({"user": "0"}, "user"), ({"user": "root"}, "user"), ({"read_only_root": "no"}, "read_only_root"),
                     ({"unrestricted_environments": "env"}, "unrestricted_environments"), ({"users": "1"}, "")):
        with pytest.raises(ConfigError, match=f"'backends.kubernetes.security{'.' + key if key else ''}'"):
            KubeOptions.parse({"security": bad})


def test_only_the_api_gate_container_of_a_driver_pod_has_the_token() -> None:
    pod = driver_pod("r1", "ns", "flyte-runner", "img:1", "IfNotPresent", "/data/bundles/b.tar.gz",
                     "/data/drivers/r1", DataAccess(root="/data", host_path="/data"), "/home/u/runs.db", None, ["x"])
    spec = pod["spec"]
    assert spec["automountServiceAccountToken"] is False and spec["serviceAccountName"] == "flyte-runner"
    driver, gate = container(pod, "driver"), container(pod, "api-gate")
    token_volumes = {v["name"] for v in spec["volumes"] if "projected" in v}
    assert not token_volumes & {m["name"] for m in driver["volumeMounts"]}
    assert {m["name"] for m in gate["volumeMounts"]} == token_volumes
    # The gate's policy is in its command: the driver container cannot change the pod's spec.
    assert Policy.from_json(gate["command"][-1]) == Policy(account="flyte-runner", host_roots=["/data"])
    assert gate["securityContext"]["runAsNonRoot"] is True
    assert {"name": "FLYTE_KUBE_GATE", "value": "http://127.0.0.1:8011"} in driver["env"]


POLICY = Policy(account="flyte-runner", host_roots=["/data"], secrets=["flyte-api-token"])


def task_pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": {names.RUN_LABEL: "r1"}},
            "spec": {"containers": [{"name": "primary"}], "securityContext": {"runAsNonRoot": True},
                     "automountServiceAccountToken": False, **spec}}


def test_the_gate_lets_through_only_what_the_controller_asks_for() -> None:
    gate = Gate("ns", POLICY, "https://10.0.0.1:443", "/nonexistent")
    pods = "/api/v1/namespaces/ns/pods"
    for method, path in (("GET", pods), ("GET", f"{pods}/p1"), ("GET", f"{pods}/p1/log"),
                         ("GET", "/api/v1/namespaces/ns/podtemplates/t")):
        gate.decide(method, path, b"")
    gate.decide("POST", pods, __import__("json").dumps(task_pod(volumes=[
        {"name": "d", "hostPath": {"path": "/data/runs"}}])).encode())
    for method, path, why in (("GET", "/api/v1/namespaces/ns/secrets", "not a request"),
                              ("GET", "/api/v1/namespaces/other/pods", "only namespace 'ns'"),
                              ("POST", "/api/v1/namespaces/ns/pods/p1/exec", "not a request"),
                              ("GET", "/apis/rbac.authorization.k8s.io/v1/roles", "not a request"),
                              ("PUT", f"{pods}/p1", "not a request"),
                              ("PATCH", f"{pods}/p1", "labels and annotations"),
                              ("POST", pods, "not a pod")):
        with pytest.raises(Refused, match=why):
            gate.decide(method, path, b'{"spec": 1}' if method == "PATCH" else b"")


@pytest.mark.parametrize(("spec", "why"), [
    ({"hostNetwork": True}, "hostNetwork"),
    ({"hostPID": True}, "hostPID"),
    ({"serviceAccountName": "flyte-runner", "automountServiceAccountToken": True}, "driver's ServiceAccount"),
    ({"automountServiceAccountToken": None}, "ServiceAccount 'default'"),
    ({"volumes": [{"name": "s", "secret": {"secretName": "flyte-runner-token-x7k2p"}}]}, "holds the driver's"),
    ({"containers": [{"name": "x", "envFrom": [{"secretRef": {"name": "flyte-runner-token-x7k2p"}}]}]},
     "holds the driver's"),
    ({"containers": [{"name": "x", "securityContext": {"privileged": True}}]}, "privileged"),
    ({"initContainers": [{"name": "i", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}]},
     "add capabilities"),
    ({"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}, "outside the data store"),
    ({"volumes": [{"name": "up", "hostPath": {"path": "/data/../etc"}}]}, "outside the data store"),
    ({"volumes": [{"name": "t", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}]},
     "ServiceAccount token"),
])
def test_the_gate_refuses_pods_that_reach_beyond_their_place(spec: dict[str, Any], why: str) -> None:
    with pytest.raises(Refused, match=why):
        check_pod(task_pod(**spec), POLICY)
    check_pod(task_pod(serviceAccountName="flyte-runner", automountServiceAccountToken=False,
                       volumes=[{"name": "s", "secret": {"secretName": "flyte-api-token"}}]), POLICY)
    with pytest.raises(Refused, match="only task pods"):
        check_pod({"metadata": {}, "spec": {"containers": []}}, POLICY)


#: A run's policy as gate_policy makes it: the Secrets its environments declare, one unrestricted environment.
RUN_POLICY = Policy(account="flyte-runner", host_roots=["/data"], secrets=["flyte-api-token", "flyte-data", "pull"],
                    unrestricted=["needs_root"], tokens=["reader"])
RW = ["/data/runs/r1/data/a0-1", "/data/runs/r1/a0", "/data/runs/r1/k8s"]


def real_pod(environment: str | None = "confined", confined: bool = True, **kw: Any) -> dict[str, Any]:
    """A task pod exactly as the backend builds it for a durable run's driver to create."""
    base: dict[str, Any] = dict(environment=environment, host_paths=["/data"], writable_paths=RW,
                                env_from_secrets=["flyte-data"], service_account="flyte-runner",
                                confinement=CONFINED if confined else None)
    return build_pod(request(**{**base, **kw}))


def primary_sc(**sc: Any) -> Any:
    return flyte.PodTemplate(pod_spec={"containers": [{"name": "primary", "securityContext": sc}]})


ALLOWED: dict[str, dict[str, Any]] = {
    "confined, declared env and file secrets": real_pod(
        secrets=[flyte.Secret("api-token"), flyte.Secret("api-token", mount="/etc/flyte/secrets")]),
    "confined, no secrets, registry secret": real_pod(image_pull_secrets=["pull"]),
    "unrestricted environment as the image's user": real_pod("needs_root", confined=False),
    "a template naming a non-root user": real_pod(pod_template=primary_sc(runAsUser=1000, runAsNonRoot=True)),
    "a template asking for a declared account's token": real_pod(service_account=None, pod_template=flyte.PodTemplate(
        pod_spec={"automountServiceAccountToken": True, "serviceAccountName": "reader"})),
    "a raw container task's pod": real_pod(mounts={"/data/runs/r1/raw/container-a0-1": "/var/inputs"}),
}

REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "unconfined in a restricted environment": (real_pod("confined", confined=False), "may run as root"),
    "unconfined without an environment label": (real_pod(None, confined=False), "no environment label"),
    "a template making the primary root": (real_pod(pod_template=primary_sc(runAsUser=0)), "may run as root"),
    "a template dropping runAsNonRoot": (real_pod(pod_template=primary_sc(runAsNonRoot=False)), "may run as root"),
    "a template's root sidecar": (real_pod(pod_template=flyte.PodTemplate(pod_spec={"containers": [
        {"name": "primary"}, {"name": "side", "securityContext": {"runAsUser": 0}}]})), "container 'side'"),
    "an undeclared env secret": (real_pod(secrets=[flyte.Secret("db-pass")]), "flyte-db-pass is not one the run"),
    "an undeclared file secret": (real_pod(secrets=[flyte.Secret("db-pass", mount="/etc/flyte/secrets")]),
                                  "flyte-db-pass is not one"),
    "an undeclared envFrom Secret": (real_pod(env_from_secrets=["aws-admin"]), "aws-admin is not one"),
    "an undeclared pull Secret": (real_pod(image_pull_secrets=["other-registry"]), "other-registry is not one"),
    "a CSI volume's secret": (real_pod(pod_template=flyte.PodTemplate(pod_spec={"volumes": [
        {"name": "v", "csi": {"driver": "x", "nodePublishSecretRef": {"name": "cloud-key"}}}]})), "cloud-key"),
    "an unrestricted pod's undeclared secret": (real_pod("needs_root", confined=False,
                                                         secrets=[flyte.Secret("db-pass")]), "flyte-db-pass"),
    "a token nobody asked for": (real_pod(service_account=None, pod_template=flyte.PodTemplate(pod_spec={
        "automountServiceAccountToken": True, "serviceAccountName": "admin"})), "ServiceAccount 'admin'"),
    "the driver's own token": (real_pod(pod_template=flyte.PodTemplate(pod_spec={
        "automountServiceAccountToken": True})), "driver's ServiceAccount"),
    "the node's root folder": (real_pod(host_paths=["/"], writable_paths=[]), "outside the data store"),
    "a privileged unrestricted pod": (real_pod("needs_root", confined=False, pod_template=flyte.PodTemplate(
        pod_spec={"containers": [{"name": "primary", "securityContext": {"privileged": True}}]})), "privileged"),
}


@pytest.mark.parametrize("what", ALLOWED)
def test_the_gate_allows_the_pods_flyte_core_builds_for_the_run(what: str) -> None:
    check_pod(ALLOWED[what], RUN_POLICY)


@pytest.mark.parametrize("what", REFUSED)
def test_the_gate_refuses_root_and_undeclared_secrets(what: str) -> None:
    pod, why = REFUSED[what]
    with pytest.raises(Refused, match=why):
        check_pod(pod, RUN_POLICY)


POLICY_MODULE = """
import flyte

pull = flyte.Image.from_debian_base(registry_secret="regcred")
env = flyte.TaskEnvironment(name="main", secrets=[flyte.Secret("api-token"), flyte.Secret("db", group="pg")])
dep = flyte.TaskEnvironment(name="dep", secrets="solo", image=pull)
main = flyte.TaskEnvironment(name="needs_root", depends_on=[dep],
                             pod_template=flyte.PodTemplate(pod_spec={
                                 "automountServiceAccountToken": True, "serviceAccountName": "reader",
                                 "volumes": [{"name": "c", "secret": {"secretName": "tls-cert"}}]}))


@env.task
def a() -> int:
    return 1


@main.task
def b() -> int:
    return 2
"""


def test_the_policy_is_what_the_task_module_declares(tmp_path: Path) -> None:
    from flyte_core.extend import load_file

    (tmp_path / "policy_tasks.py").write_text(POLICY_MODULE)
    module = load_file(tmp_path / "policy_tasks.py", tmp_path)
    opts = KubeOptions.parse({"data_secret": "s3-creds", "security": {
        "user": "1000", "unrestricted_environments": ["needs_root"]}})
    policy = gate_policy(module, opts, "flyte-runner", ["/data"])
    assert policy == Policy(account="flyte-runner", host_roots=["/data"],
                            secrets=["flyte-api-token", "flyte-pg-db", "flyte-solo", "regcred", "s3-creds", "tls-cert"],
                            unrestricted=["needs_root"], tokens=["reader"], user=1000)
    assert Policy.from_json(policy.to_json()) == policy
