"""A run's view of a local data store (``flyte_core.storage.storeview``, ``flyte_core.extend.StoreView``),
which docker containers and kubernetes pods share: what an attempt mounts, and how values from
outside the run's folders are imported into it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flyte_core.extend import AttemptMounts, StoreView, local_store_path


def store(tmp_path: Path) -> tuple[Path, Path, StoreView]:
    root, run = tmp_path / "data", tmp_path / "data" / "runs" / "r2"
    run.mkdir(parents=True)
    return root, run, StoreView(str(root), (str(run),), str(run / "imports"))


def test_foreign_files_and_dirs_are_imported_and_nothing_else(tmp_path: Path) -> None:
    root, run, view = store(tmp_path)
    other = root / "runs" / "r1" / "raw" / "a0"
    (other / "folder" / "sub").mkdir(parents=True)
    (other / "f.txt").write_text("file")
    (other / "folder" / "sub" / "g.txt").write_text("in a dir")
    (run / "own.txt").write_text("own")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not in the store")
    literals = {
        "f": {"t": "file", "v": 1, "d": {"uri": str(other / "f.txt"), "name": None, "format": "", "hash": "h"}},
        "d": {"t": "dir", "v": 1, "d": {"uri": f"file://{other / 'folder'}", "hash": "h2"}},
        "own": {"t": "file", "v": 1, "d": {"uri": str(run / "own.txt"), "hash": "h3"}},
        "out": {"t": "file", "v": 1, "d": {"uri": str(outside), "hash": "h4"}},
        "s3": {"t": "file", "v": 1, "d": {"uri": "s3://bucket/x", "hash": "h5"}},
        "n": {"t": "int", "v": 1, "d": 5},
        "user_dict": {"t": "dict", "v": 1, "d": {"path": str(other / "f.txt")}},  # data, not a reference
    }
    seen = view.literals(literals)
    f_uri, d_uri = seen["f"]["d"]["uri"], seen["d"]["d"]["uri"]
    assert f_uri.startswith(str(run / "imports")) and Path(f_uri).read_text() == "file"
    assert d_uri.startswith(f"file://{run / 'imports'}")
    assert (Path(d_uri.removeprefix("file://")) / "sub" / "g.txt").read_text() == "in a dir"
    kept = ("own", "out", "s3", "n", "user_dict")
    assert {k: seen[k] for k in kept} == {k: literals[k] for k in kept}
    assert seen["f"]["d"]["hash"] == "h" and list(seen["f"]["d"]) == ["uri", "name", "format", "hash"]
    assert view.literals(literals) == seen  # imported once, then reused


def test_an_offloaded_value_referring_to_foreign_data_is_rewritten_inside(tmp_path: Path) -> None:
    root, run, view = store(tmp_path)
    other = root / "runs" / "r1"
    other.mkdir(parents=True)
    (other / "f.txt").write_text("file")
    # A big list of files lives offloaded in this run's folder but points into another run.
    payload = [{"uri": str(other / "f.txt"), "hash": "h"}]
    (run / "big.json").write_text(json.dumps(payload))
    literal = {"t": "list", "v": 1, "uri": str(run / "big.json"), "hash": "hb"}
    seen = view.literals({"xs": literal})["xs"]
    assert seen["uri"] != literal["uri"] and seen["uri"].startswith(str(run / "imports")) and seen["hash"] == "hb"
    inner = json.loads(Path(seen["uri"]).read_text())
    assert Path(inner[0]["uri"]).read_text() == "file" and inner[0]["uri"].startswith(str(run / "imports"))
    # One that refers only to visible data is left where it is.
    (run / "plain.json").write_text(json.dumps([1, 2]))
    plain = {"t": "list", "v": 1, "uri": str(run / "plain.json"), "hash": "hp"}
    assert view.literals({"xs": plain})["xs"] == plain


def test_a_runs_view_mounts_its_own_folder_and_recovered_runs_read_only_and_its_attempts_folders_writable(
        tmp_path: Path) -> None:
    root = tmp_path / "data"
    old = root / "runs" / "old"
    old.mkdir(parents=True)
    view = StoreView.of_run(f"file://{root}", str(root / "runs" / "new"),
                            [str(old), str(root / "runs" / "never-made"), "s3://bucket/runs/x"])
    assert view is not None and view.root == str(root) and view.imports == str(root / "runs" / "new" / "imports")
    # A recovered run without a folder, or one elsewhere, is not mounted.
    assert view.run_dir == str(root / "runs" / "new") and view.recovered == (str(old),)
    run = root / "runs" / "new"
    assert view.mounts("a1", f"file://{run}/data/a1-2", f"{run}/raw") == AttemptMounts(
        read_only=(str(run), str(old)), writable=(f"{run}/data/a1-2", f"{run}/a1", f"{run}/raw"))
    # A remote raw data path is reached with the store's credentials, not mounted.
    assert view.mounts("a1", f"{run}/data/a1-2", "s3://b/raw").writable == (f"{run}/data/a1-2", f"{run}/a1")
    with pytest.raises(ValueError, match="a1"):
        view.mounts("a1", "s3://b/data/a1-2", f"{run}/raw")
    # A store that is not local has no view: nothing to mount.
    assert StoreView.of_run("s3://bucket", "s3://bucket/runs/new") is None
    assert StoreView.of_run(str(root), "memory://runs/new") is None
    assert (local_store_path("file:///x/y"), local_store_path("/x/y"), local_store_path("gs://b/x")) == (
        "/x/y", "/x/y", None)
    assert view.foreign(str(root / "runs" / "other" / "f")) and view.foreign(str(root / "cache" / "c.json"))
    assert not view.foreign(str(old / "f")) and not view.foreign(str(tmp_path / "elsewhere"))
