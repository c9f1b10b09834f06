"""Fast tests of pod manifests, names, options and the data-store check: pure functions, no
cluster and nothing faked (the builders never call the API). Every behaviour here also has a
real-cluster test that runs the resulting pod: resources (test_resources_become_requests_and_limits),
secrets (test_secrets_reach_the_pod_and_nowhere_else), pod templates (test_pod_template_is_merged),
the refused data store (test_a_local_data_store_without_host_path_is_refused), a remote store and
its data secret (test_k8s_remote_store.py), an image's registry_secret
(test_k8s_registry.py::test_a_private_registry_is_pulled_with_the_image_registry_secret)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flyte_backend_kubernetes import names
from flyte_backend_kubernetes.options import KubeOptions
from flyte_backend_kubernetes.podspec import PodRequest, build_pod, image_pull_secrets
from flyte_backend_kubernetes.runsetup import host_data_root

import flyte
from flyte_core.extend import ConfigError, FlyteUsageError


def request(**kw: object) -> PodRequest:
    base: dict[str, object] = dict(name="r1-a0-1-1", namespace="ns", run="r1", action="a0.1", attempt=1,
                                   task="env.step", image="img:1", command=["python", "-m", "w"])
    base.update(kw)
    return PodRequest(**base)  # type: ignore[arg-type]


def primary(pod: dict) -> dict:  # type: ignore[type-arg]
    (c,) = [c for c in pod["spec"]["containers"] if c["name"] == "primary"]
    return c  # type: ignore[no-any-return]


def test_pod_is_labelled_and_never_restarts() -> None:
    pod = build_pod(request(timeout=2.5, host_paths=["/data", "/data"]))
    assert pod["metadata"]["labels"] == {names.RUN_LABEL: "r1", names.ACTION_LABEL: "a0.1",
                                         names.TASK_LABEL: "env.step", names.ATTEMPT_LABEL: "1"}
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["activeDeadlineSeconds"] == 3  # whole seconds, rounded up
    assert spec["automountServiceAccountToken"] is False
    assert spec["volumes"] == [{"name": "flyte-host-0", "hostPath": {"path": "/data", "type": "Directory"}}]
    assert primary(pod)["volumeMounts"] == [{"name": "flyte-host-0", "mountPath": "/data"}]
    assert primary(pod)["imagePullPolicy"] == "IfNotPresent"


def test_resources_tuples_are_request_and_limit() -> None:
    res = flyte.Resources(cpu=("250m", 2), memory="1Gi", gpu="A100:2", disk="10Gi", shm="auto")
    pod = build_pod(request(resources=res, gpu_node_label="accelerator"))
    assert primary(pod)["resources"] == {
        "requests": {"cpu": "250m", "memory": "1Gi", "ephemeral-storage": "10Gi", "nvidia.com/gpu": "2"},
        "limits": {"cpu": "2", "memory": "1Gi", "ephemeral-storage": "10Gi", "nvidia.com/gpu": "2"},
    }
    assert pod["spec"]["nodeSelector"] == {"accelerator": "A100"}
    assert {"name": "flyte-shm", "emptyDir": {"medium": "Memory"}} in pod["spec"]["volumes"]


def test_a_bad_quantity_names_the_task() -> None:
    with pytest.raises(FlyteUsageError, match=r"Task 'env.step': Resources memory='lots'"):
        build_pod(request(resources=flyte.Resources(memory="lots")))


def test_secrets_are_references_only() -> None:
    secrets = [flyte.Secret(key="api-token"), flyte.Secret(key="db_pass", group="db", mount="/etc/flyte/secrets")]
    pod = build_pod(request(secrets=secrets))
    env = primary(pod)["env"]
    assert {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "flyte-api-token", "key": "value"}}} in env
    (vol,) = [v for v in pod["spec"]["volumes"] if v["name"] == "flyte-secrets"]
    assert vol["projected"]["sources"] == [
        {"secret": {"name": "flyte-db-db-pass", "items": [{"key": "value", "path": "db/db_pass", "mode": 0o400}]}}]
    mount = {"name": "flyte-secrets", "mountPath": "/etc/flyte/secrets", "readOnly": True}
    assert mount in primary(pod)["volumeMounts"]


def test_pod_template_is_the_base() -> None:
    from kubernetes import client

    tpl = flyte.PodTemplate(
        primary_container_name="main", labels={"team": "x", names.RUN_LABEL: "spoofed"},
        pod_spec=client.V1PodSpec(
            node_selector={"disk": "ssd"}, restart_policy="Always",
            tolerations=[client.V1Toleration(key="gpu", operator="Exists")],
            containers=[client.V1Container(name="main", image="ignored", env=[client.V1EnvVar(name="A", value="1")],
                                           resources=client.V1ResourceRequirements(limits={"cpu": "9"})),
                        client.V1Container(name="sidecar", image="side:1")]))
    pod = build_pod(request(pod_template=tpl, env={"B": "2"}, resources=flyte.Resources(memory="1Gi")))
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"  # ours wins
    assert spec["nodeSelector"] == {"disk": "ssd"}
    assert spec["tolerations"] == [{"key": "gpu", "operator": "Exists"}]
    main = next(c for c in spec["containers"] if c["name"] == "main")
    assert main["image"] == "img:1" and [e["name"] for e in main["env"]] == ["A", "B"]
    assert main["resources"] == {"limits": {"cpu": "9", "memory": "1Gi"}, "requests": {"memory": "1Gi"}}
    assert [c["name"] for c in spec["containers"]] == ["main", "sidecar"]
    assert pod["metadata"]["labels"]["team"] == "x" and pod["metadata"]["labels"][names.RUN_LABEL] == "r1"


def test_names_are_valid_and_distinct() -> None:
    assert names.pod_name("r1", "a0.1.2", 3) == "r1-a0-1-2-3"
    long = names.pod_name("R_" + "x" * 80, "a0", 1)
    assert len(long) <= 63 and long == long.lower() and long != names.pod_name("R_" + "x" * 81, "a0", 1)
    assert names.label_value("env.task_x") == "env.task_x"
    assert len(names.label_value("t" * 100)) <= 63
    assert names.secret_name(flyte.Secret(key="My_Key", group="G")) == "flyte-g-my-key"


def test_options_refuse_typos() -> None:
    with pytest.raises(ConfigError, match="namespase"):
        KubeOptions.parse({"namespase": "x"})
    assert KubeOptions.parse({"keep_pods_seconds": 5, "echo": False}).keep_pods_seconds == 5.0
    # Wrong types are refused, never coerced (namespace 5 must not become a namespace "5").
    for bad, key in (({"keep_pods_seconds": "5"}, "keep_pods_seconds"), ({"echo": "maybe"}, "echo"),
                     ({"namespace": 5}, "namespace"), ({"namespace": "Bad_NS"}, "namespace"),
                     ({"image_pull_policy": "Sometimes"}, "image_pull_policy"), ({"start_grace": -1}, "start_grace")):
        with pytest.raises(ConfigError, match=f"'backends.kubernetes.{key}'"):
            KubeOptions.parse(bad)


def test_data_store_pods_cannot_reach_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FlyteUsageError, match="memory"):
        host_data_root("memory://x", None)
    with pytest.raises(FlyteUsageError, match=r"set backends.kubernetes.data_host_path: "):
        host_data_root(str(tmp_path), None)
    with pytest.raises(FlyteUsageError, match="must be the same folder"):
        host_data_root(str(tmp_path), "/elsewhere")
    assert host_data_root(f"file://{tmp_path}", str(tmp_path)) == str(tmp_path)


def test_a_remote_store_is_reached_over_the_network_with_its_fsspec_package() -> None:
    from flyte_backend_kubernetes.runsetup import data_access

    access = data_access("s3://bucket/prefix", None)
    assert access.remote and access.host_path is None
    assert [p.split("==")[0] for p in access.packages] == ["s3fs"]  # pinned to this machine's version
    with pytest.raises(FlyteUsageError, match="remove data_host_path"):
        data_access("s3://bucket/prefix", "/data")
    with pytest.raises(FlyteUsageError, match="memory"):
        data_access("memory://x", None)
    with pytest.raises(FlyteUsageError, match="not installed"):
        data_access("nosuchproto://x", None)


def test_a_data_secret_becomes_the_environment_of_every_pod() -> None:
    pod = build_pod(request(env_from_secrets=["s3-creds"]))
    assert primary(pod)["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert "envFrom" not in primary(build_pod(request()))


def test_an_image_registry_secret_becomes_the_pod_image_pull_secret() -> None:
    from flyte_backend_kubernetes.images import image_key

    plain = flyte.Image.from_debian_base(registry="localhost:5000/flyte")
    private = flyte.Image.from_debian_base(registry="localhost:5000/flyte", registry_secret="regcred")
    env = flyte.TaskEnvironment(name="private_env", image=private)
    assert env.image_spec is not None and env.image_spec.registry_secret == "regcred"
    pod = build_pod(request(image_pull_secrets=image_pull_secrets(env.image_spec)))
    assert pod["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert "imagePullSecrets" not in build_pod(request(image_pull_secrets=image_pull_secrets(plain)))["spec"]
    assert image_pull_secrets(flyte.TaskEnvironment(name="auto_env").image_spec) == []

    # A pull credential is not image content: same spec, tag, reference and prebuilt-image key.
    assert private.spec() == plain.spec() and private.tag == plain.tag and private.uri == plain.uri
    assert image_key(private) == image_key(plain)
    assert image_key(plain) != image_key(plain.clone(registry="localhost:5001/flyte"))  # pushed elsewhere

    # Kept by every derived image; clone sets or replaces it (None keeps it, as in Flyte 2);
    # a flyte.Secret names the credential by its key, as Flyte 2 turns a string into Secret(key=...).
    layered = private.with_pip_packages("requests").with_env_vars({"A": "1"})
    assert layered.registry_secret == "regcred"
    assert layered.tag == plain.with_pip_packages("requests").with_env_vars({"A": "1"}).tag
    assert private.clone(name="other").registry_secret == "regcred"
    assert private.clone(registry_secret="other").registry_secret == "other"
    assert plain.clone(registry_secret=flyte.Secret(key="regcred")) == private
    prebuilt = flyte.Image.from_base("registry.example.com/team/app:1.0").clone(registry_secret="regcred")
    assert prebuilt.uri == "registry.example.com/team/app:1.0" and image_pull_secrets(prebuilt) == ["regcred"]
    dockerfile = flyte.Image.from_dockerfile("Dockerfile", registry="r", name="n", registry_secret="regcred")
    assert dockerfile.registry_secret == "regcred"
    assert dockerfile.tag == flyte.Image.from_dockerfile("Dockerfile", registry="r", name="n").tag
    with pytest.raises(ValueError, match="group"):
        plain.clone(registry_secret=flyte.Secret(key="regcred", group="g"))


def test_template_pull_secrets_are_kept_and_the_image_one_added() -> None:
    tpl = flyte.PodTemplate(pod_spec={"image_pull_secrets": [{"name": "org-wide"}, {"name": "regcred"}]})
    pod = build_pod(request(pod_template=tpl, image_pull_secrets=["regcred", "team"]))
    assert pod["spec"]["imagePullSecrets"] == [{"name": "org-wide"}, {"name": "regcred"}, {"name": "team"}]
    tpl_only = build_pod(request(pod_template=tpl))
    assert tpl_only["spec"]["imagePullSecrets"] == [{"name": "org-wide"}, {"name": "regcred"}]
