"""The pieces of container confinement that need no engine: the ``security`` options and the container
settings they give. How values from outside a run's folder are imported into it is the core's
``StoreView`` (tests/test_storeview.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flyte_backend_docker.lending import POOL_DIR, forget, lend, reclaim, worker_folders
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


def test_mounts_under_roots_home_get_a_passage(tmp_path: Path) -> None:
    # A root driver's ~/.flyte is under /root, which images keep 0700: a folder of the run's
    # (0755) takes its place, so the container's user passes through to its mounts.
    box = Sandbox((65532, 65532), unrestricted=frozenset({"apt"}))
    mounts = ("/root/.flyte/data/runs/r1", "/tmp/flyte-r1/channel")
    passages = box.passages("etl", mounts, str(tmp_path / "passages"))
    assert passages == {str(tmp_path / "passages" / "root"): {"bind": "/root", "mode": "rw"}}
    assert (tmp_path / "passages" / "root").stat().st_mode & 0o777 == 0o755
    assert box.passages("etl", ("/home/me/.flyte/data", "/rootless/x"), str(tmp_path / "p2")) == {}
    assert box.passages("apt", mounts, str(tmp_path / "p3")) == {}


def test_a_warm_worker_borrows_an_attempts_folders_and_gives_them_back(tmp_path: Path) -> None:
    run_dir, specs = tmp_path / "runs" / "r1", tmp_path / "tmp"
    specs.mkdir()
    earlier = run_dir / "a0.1"  # the action's folder, with an earlier attempt's checkpoint
    earlier.mkdir(parents=True)
    (earlier / "checkpoint-1").write_text("one")
    folders = worker_folders(str(specs), str(run_dir), "w1", None)
    assert folders.data == str(run_dir / POOL_DIR / "w1") and os.stat(folders.specs).st_mode & 0o777 == 0o700
    prefix = run_dir / "data" / "a0.1-2"
    loans = lend([str(prefix), str(earlier)], folders, str(run_dir), None)
    # The attempt writes through the usual paths, into the worker's own folder.
    assert prefix.is_symlink() and earlier.is_symlink() and (earlier / "checkpoint-1").read_text() == "one"
    (prefix / "o0.json").write_text("out")
    (earlier / "checkpoint-2").write_text("two")
    # A link the worker keeps to its output, to change it after the attempt.
    kept = Path(folders.data) / "kept"
    os.link(prefix / "o0.json", kept)
    reclaim(loans)
    assert not prefix.is_symlink() and (prefix / "o0.json").read_text() == "out"
    assert sorted(p.name for p in earlier.iterdir()) == ["checkpoint-1", "checkpoint-2"]
    kept.write_text("changed")
    assert (prefix / "o0.json").read_text() == "out" and (prefix / "o0.json").stat().st_nlink == 1
    assert sorted(os.listdir(folders.data)) == ["data", "kept"] and not os.listdir(Path(folders.data) / "data")
    forget(folders)
    assert not os.path.exists(folders.data) and not os.path.exists(folders.specs)


def test_a_lent_folder_the_worker_replaced_by_a_link_brings_nothing_back(tmp_path: Path) -> None:
    run_dir, elsewhere = tmp_path / "r1", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "f").write_text("host")
    folders = worker_folders(str(tmp_path), str(run_dir), "w2", None)
    (loan,) = lend([str(run_dir / "a3")], folders, str(run_dir), None)
    os.rmdir(loan.held)
    os.symlink(elsewhere, loan.held)  # the worker points its folder elsewhere
    reclaim([loan])
    assert not os.path.lexists(run_dir / "a3") and not os.path.lexists(loan.held)
    assert os.listdir(elsewhere) == ["f"]  # the link's target is neither moved nor emptied


def test_a_folder_an_attempt_left_empty_is_removed_and_a_retry_gets_its_checkpoints(tmp_path: Path) -> None:
    run_dir = tmp_path / "r1"
    folders = worker_folders(str(tmp_path), str(run_dir), "w4", None)
    assert folders.data is not None
    prefix, action = run_dir / "data" / "a5-1", run_dir / "a5"
    loans = lend([str(prefix), str(action)], folders, str(run_dir), None)
    (action / "checkpoint-1").write_text("one")  # the first attempt checkpoints, offloads nothing
    reclaim(loans)
    assert not os.path.lexists(prefix) and not os.listdir(Path(folders.data) / "data")
    assert not action.is_symlink() and (action / "checkpoint-1").read_text() == "one"
    # The retry borrows the action's folder with what the first attempt left in it.
    retry = lend([str(run_dir / "data" / "a5-2"), str(action)], folders, str(run_dir), None)
    assert action.is_symlink() and (action / "checkpoint-1").read_text() == "one"
    reclaim(retry)
    assert not action.is_symlink() and os.listdir(action) == ["checkpoint-1"]
    assert sorted(os.listdir(folders.data)) == ["data"]  # nothing of either attempt is left with the worker


def test_a_link_the_worker_plants_where_a_future_attempt_is_lent_is_never_followed(tmp_path: Path) -> None:
    run_dir, outside = tmp_path / "r1", tmp_path / "host-secret"
    outside.mkdir(mode=0o700)
    folders = worker_folders(str(tmp_path), str(run_dir), "w3", None)
    assert folders.data is not None
    planted = Path(folders.data) / "a7"  # where action a7's folder will be held
    planted.symlink_to(outside)
    (loan,) = lend([str(run_dir / "a7")], folders, str(run_dir), (4242, 4242))
    # The link was replaced by a folder of the worker's; the host folder kept its owner and mode.
    assert not planted.is_symlink() and planted.is_dir() and planted.stat().st_uid == 4242
    assert outside.stat().st_uid == os.getuid() and outside.stat().st_mode & 0o777 == 0o700
    reclaim([loan])
    assert not os.path.lexists(run_dir / "a7") and outside.stat().st_uid == os.getuid()
