"""The pieces of container confinement that need no engine: the ``security`` options and the container
settings they give. How values from outside a run's folder are imported into it is the core's
``StoreView`` (tests/test_storeview.py)."""

from __future__ import annotations

import os

import pytest
from flyte_backend_docker.options import DockerOptions
from flyte_backend_docker.sandbox import UNPRIVILEGED, Sandbox, container_owner

from flyte_core.extend import ConfigValueError


@pytest.mark.parametrize(("raw", "message"), [
    ({"user": "nobody"}, "'backends.docker.security.user': must be auto, UID or UID:GID"),
    ({"read_only_root": "yes"}, "'backends.docker.security.read_only_root': expected true or false"),
    ({"unrestricted_environments": "apt"}, "expected a list of environment names"),
    ({"privileged": True}, "unknown key(s) privileged; known keys: user, read_only_root, unrestricted_environments"),
])
def test_bad_security_options_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigValueError) as ei:
        DockerOptions.parse({"security": raw})
    assert message in str(ei.value)


def test_security_defaults_confine_every_environment() -> None:
    opts = DockerOptions.parse({}).security
    assert (opts.user, opts.read_only_root, opts.unrestricted_environments) == ("auto", True, ())
    parsed = DockerOptions.parse({"security": {"user": "1000:100", "unrestricted_environments": ["apt"]}}).security
    assert parsed.user == "1000:100" and parsed.unrestricted_environments == ("apt",)


def test_auto_user_is_the_driver_unless_it_is_root() -> None:
    expected = (UNPRIVILEGED, UNPRIVILEGED) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    assert container_owner("auto") == expected
    assert container_owner("1234") == (1234, 1234) and container_owner("1234:99") == (1234, 99)


def test_sandbox_settings() -> None:
    box = Sandbox((1000, 100), read_only_root=True, unrestricted=frozenset({"apt"}))
    confined = box.settings("etl", ("/flyte/code/abc",))
    assert confined["user"] == "1000:100"
    host = confined["host"]
    assert host["cap_drop"] == ["ALL"] and host["security_opt"] == ["no-new-privileges"] and host["read_only"]
    assert set(host["tmpfs"]) == {"/tmp", "/flyte/code/abc"} and "uid=1000,gid=100" in host["tmpfs"]["/flyte/code/abc"]
    assert box.settings("apt") == {"host": {}}
    assert box.environment("etl", {"A": "1"}) == {"A": "1", "HOME": "/tmp"}
    assert box.environment("etl", {"HOME": "/work"}) == {"HOME": "/work"}
    assert box.environment("apt", {}) == {} and box.writer("apt") is None and box.writer("etl") == (1000, 100)
    writable_root = Sandbox((1000, 100), read_only_root=False).settings("etl")["host"]
    assert "read_only" not in writable_root and "tmpfs" not in writable_root and writable_root["cap_drop"] == ["ALL"]
