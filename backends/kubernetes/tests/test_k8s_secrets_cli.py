"""``flyte kubernetes secrets push | list`` on a real cluster: local secrets (the store of ``flyte
secrets set`` and ``FLYTE_SECRET_*`` variables) become the Kubernetes Secrets a task's
``flyte.Secret`` refers to, are updated in place, and reach a task as an environment variable and
as a mounted file; a secret without a value pushes nothing. Values never appear in the output.
The Secrets made here are deleted afterwards."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import NAMESPACE, kube_options, pods_of

from flyte_core.extend import Config, FlyteUsageError, Session, load_file

pytestmark = [pytest.mark.timeout(900)]

TASKS = """
import hashlib, os
import flyte

env = flyte.TaskEnvironment(name="pushed", secrets=[
    flyte.Secret(key="{key}"), flyte.Secret(key="db-pass", group="{group}", mount="/etc/flyte/secrets")])


@env.task
def digests() -> str:
    token = os.environ.get("{env_var}", "")
    with open("/etc/flyte/secrets/{group}/db-pass") as f:
        pw = f.read()
    return hashlib.sha256(token.encode()).hexdigest() + ":" + hashlib.sha256(pw.encode()).hexdigest()
"""


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def names(kube: Any) -> Iterator[dict[str, str]]:
    """Flyte secret names unique to this test process, mapped to their Kubernetes Secrets; every
    one of those Secrets is deleted at the end."""
    from kubernetes import client

    tag = f"{os.getpid()}{secrets.token_hex(2)}"
    found = {
        "token": (f"tok{tag}", f"flyte-tok{tag}"),
        "file": (f"grp{tag}/db-pass", f"flyte-grp{tag}-db-pass"),
        "env": (f"envonly{tag}", f"flyte-envonly{tag}"),
    }
    yield {**{k: v[0] for k, v in found.items()}, **{f"{k}_k8s": v[1] for k, v in found.items()}, "tag": tag}
    for _, k8s in found.values():
        try:
            kube.delete_namespaced_secret(k8s, NAMESPACE)
        except client.ApiException as e:
            if e.status != 404:
                raise


def cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "FLYTE_HOME": str(cwd / "home"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "flyte_core.cli", *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=300
    )


def set_local(cwd: Path, name: str, value: str) -> None:
    r = cli(cwd, "secrets", "set", name, "--value", value)
    assert r.returncode == 0, r.stderr


def stored(kube: Any, name: str) -> str:
    """The value a Secret holds (decoded from its base64 data)."""
    secret = kube.read_namespaced_secret(name, NAMESPACE)
    assert set(secret.data) == {"value"}
    return base64.b64decode(secret.data["value"]).decode()


def test_push_update_and_read_from_a_task(tmp_path: Path, kube: Any, names: dict[str, str]) -> None:
    from kubernetes import client

    token, pw, from_env = (f"tok-{secrets.token_hex(12)}", f"pw-{secrets.token_hex(10)}", f"env-{secrets.token_hex(8)}")
    set_local(tmp_path, names["token"], token)
    set_local(tmp_path, names["file"], pw)
    env_var = "FLYTE_SECRET_" + names["env"].upper()

    # A name without a value anywhere: a clear error, and nothing pushed (not even the known ones).
    unknown = f"nosuch{names['tag']}"
    r = cli(tmp_path, "kubernetes", "secrets", "push", names["token"], unknown, "-n", NAMESPACE)
    assert r.returncode == 2
    assert f"'{unknown}'" in r.stderr and f"flyte secrets set {unknown}" in r.stderr, r.stderr
    assert "nothing was pushed" in r.stderr
    with pytest.raises(client.ApiException) as ei:
        kube.read_namespaced_secret(names["token_k8s"], NAMESPACE)
    assert ei.value.status == 404

    # Push: one line per secret naming its Kubernetes Secret, never the value.
    r = cli(
        tmp_path,
        "kubernetes",
        "secrets",
        "push",
        names["token"],
        names["file"],
        names["env"],
        "-n",
        NAMESPACE,
        env={env_var: from_env},
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3, r.stdout
    for key in ("token", "file", "env"):
        assert any(names[f"{key}_k8s"] in line and names[key] in line and "created" in line for line in lines), lines
    for value in (token, pw, from_env):
        assert value not in r.stdout + r.stderr
    assert stored(kube, names["token_k8s"]) == token
    assert stored(kube, names["file_k8s"]) == pw
    assert stored(kube, names["env_k8s"]) == from_env  # resolved by the providers, as for docker
    raw = kube.read_namespaced_secret(names["file_k8s"], NAMESPACE)
    assert raw.data["value"] == base64.b64encode(pw.encode()).decode()
    assert raw.metadata.labels["app.kubernetes.io/managed-by"] == "flyte-core"
    assert raw.metadata.annotations["flyte-core.org/secret"] == names["file"]

    # Update in place, the namespace from the config file this time (backends.kubernetes.namespace).
    (tmp_path / ".flyte").mkdir()
    (tmp_path / ".flyte" / "config.yaml").write_text(
        yaml.safe_dump({"backends": {"kubernetes": {"namespace": NAMESPACE}}})
    )
    token2, pw2 = f"tok2-{secrets.token_hex(12)}", f"pw2-{secrets.token_hex(10)}"
    set_local(tmp_path, names["token"], token2)
    set_local(tmp_path, names["file"], pw2)
    uid = raw.metadata.uid
    r = cli(tmp_path, "kubernetes", "secrets", "push", "--all")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 2 and r.stdout.count("updated") == 2, r.stdout  # the local store's two
    assert token2 not in r.stdout + r.stderr and pw2 not in r.stdout + r.stderr
    assert stored(kube, names["token_k8s"]) == token2
    assert stored(kube, names["file_k8s"]) == pw2
    assert kube.read_namespaced_secret(names["file_k8s"], NAMESPACE).metadata.uid == uid  # updated, not re-made

    # list: names, which flyte secret, age; no values.
    r = cli(tmp_path, "kubernetes", "secrets", "list")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line.split()[1:] for line in r.stdout.splitlines()[1:]}
    for key in ("token", "file", "env"):
        assert rows[names[f"{key}_k8s"]][0] == names[key], r.stdout
    assert all(v not in r.stdout for v in (token, pw, from_env, token2, pw2))

    # A task on the kubernetes backend reads the pushed values, as env var and as a file.
    key, group = names["token"], names["file"].split("/")[0]
    (tmp_path / "pushed_tasks.py").write_text(TASKS.format(key=key, group=group, env_var=key.upper()))
    sys.modules.pop("pushed_tasks", None)
    tasks = load_file(tmp_path / "pushed_tasks.py", tmp_path)
    data = tmp_path / "data"
    session = Session(
        config=Config(),
        backend="kubernetes",
        backend_options=kube_options(data),
        data_url=str(data),
        run_store=str(tmp_path / "runs.db"),
        root_dir=tmp_path,
    )
    try:
        run = session.run(tasks.digests)
        assert run.outputs()[0] == f"{sha(token2)}:{sha(pw2)}"
        assert pods_of(kube, run.name) == []
    finally:
        session.close()


def test_push_needs_names_or_all(tmp_path: Path) -> None:
    r = cli(tmp_path, "kubernetes", "secrets", "push")
    assert r.returncode == 2 and "--all" in r.stderr, r.stderr
    r = cli(tmp_path, "kubernetes", "secrets", "push", "--all", "x")
    assert r.returncode == 2 and "not both" in r.stderr, r.stderr
    r = cli(tmp_path, "kubernetes", "secrets", "push", "--all")  # an empty local store
    assert r.returncode == 2 and "flyte secrets set NAME" in r.stderr, r.stderr


def test_names_and_ages() -> None:
    from flyte_backend_kubernetes.secrets_cli import age, parse_secret, resolve

    s = parse_secret("db/db-pass")
    assert (s.group, s.key) == ("db", "db-pass")
    assert parse_secret("api.token").key == "api.token"  # not a valid env var name: fine here
    for bad in ("/x", "x/", ""):
        with pytest.raises(FlyteUsageError):
            parse_secret(bad)
    with pytest.raises(FlyteUsageError, match="both be the Kubernetes Secret flyte-a-b-c"):
        resolve(None, ["a/b-c", "a-b/c"])
    now = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    assert [age(now - dt.timedelta(seconds=s), now) for s in (5, 120, 7200, 3 * 86400)] == ["5s", "2m", "2h", "3d"]
