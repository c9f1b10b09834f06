"""File and Dir crossing real action boundaries: one task produces the value, another consumes it."""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from pathlib import Path

import pytest
from flyte_types_files import Dir, File

from flyte_core.extend import Session, TaskEnvironment

env = TaskEnvironment(name="files_tests")


# --- tasks -----------------------------------------------------------------------------------------


@env.task
def write_report(text: str) -> File:
    """Writes a plain local file and returns it: the output conversion uploads it."""
    path = Path(tempfile.mkdtemp()) / "report.txt"
    path.write_text(text)
    return File(path=str(path))


@env.task
def read_report(f: File) -> str:
    with f.open_sync("rb") as fh:
        return fh.read().decode()


@env.task
def report_pipeline(text: str) -> tuple[str, File]:
    f = write_report(text)
    return read_report(f), f


@env.task
def write_tree() -> Dir:
    root = Path(tempfile.mkdtemp()) / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.txt").write_text("beta")
    (root / "sub" / "skip.log").write_text("ignored")
    return Dir(path=str(root))


@env.task
def read_tree(d: Dir) -> dict[str, str]:
    out = {}
    for f in d.walk_sync(file_pattern="*.txt"):
        with f.open_sync("r") as fh:
            out[f.name or ""] = fh.read()
    return out


@env.task
def tree_pipeline() -> tuple[dict[str, str], Dir]:
    d = write_tree()
    return read_tree(d), d


@env.task
async def write_async(text: str) -> File:
    path = Path(tempfile.mkdtemp()) / "async.txt"
    path.write_text(text)
    return await File.from_local(path)


@env.task
async def read_async(f: File) -> str:
    async with f.open() as fh:
        data = bytes(await fh.read())
    return data.decode()


@env.task
async def async_pipeline(text: str) -> tuple[str, File]:
    f = await write_async(text)
    return await read_async(f), f


@env.task
def write_new_remote(text: str) -> File:
    f = File.new_remote("streamed.txt")
    with f.open_sync("wb") as fh:
        fh.write(text.encode())
    return f


@env.task
def pass_through(f: File) -> File:
    return f


@env.task
def remote_pipeline(text: str) -> tuple[File, File, str]:
    f = write_new_remote(text)
    g = pass_through(f)
    return f, g, read_report(g)


@env.task
def upload_in_task(text: str) -> File:
    path = Path(tempfile.mkdtemp()) / "uploaded.txt"
    path.write_text(text)
    f = File.from_local_sync(str(path))
    os.remove(path)  # the File now lives in the data store, not here
    return f


@env.task
def upload_tree_in_task() -> Dir:
    root = Path(tempfile.mkdtemp()) / "models"
    (root / "v1").mkdir(parents=True)
    (root / "v1" / "w.bin").write_bytes(b"\x00\x01")
    return Dir.from_local_sync(root)


@env.task
def download_tree(d: Dir) -> list[str]:
    local = d.download_sync()
    return sorted(str(p.relative_to(local)) for p in Path(local).rglob("*") if p.is_file())


@env.task
def deleted_file() -> File:
    path = Path(tempfile.mkdtemp()) / "gone.txt"
    path.write_text("soon gone")
    f = File(path=str(path))
    path.unlink()
    return f


@env.task
def named(attempt_text: str) -> File:
    f = File.named_remote("stable.txt")
    with f.open_sync("w") as fh:
        fh.write(attempt_text)
    return f


# --- tests -----------------------------------------------------------------------------------------


@pytest.fixture
def session(flyte_session: Session) -> Session:
    """The isolated session of flyte-core's pytest plugin (stores in a temporary folder)."""
    return flyte_session


def test_a_local_file_returned_by_one_task_is_read_by_the_next(session: Session, tmp_path: Path) -> None:
    text, f = session.run(report_pipeline, text="quarterly numbers").outputs()[0]
    assert text == "quarterly numbers"
    assert f.name == "report.txt"
    assert f.path.startswith(session.data.root + "/")  # uploaded into the run's data store
    assert f.hash == hashlib.sha256(b"quarterly numbers").hexdigest()


def test_a_dir_is_uploaded_and_walked(session: Session, tmp_path: Path) -> None:
    contents, d = session.run(tree_pipeline).outputs()[0]
    assert contents == {"a.txt": "alpha", "b.txt": "beta"}
    assert d.name == "tree" and d.path.startswith(session.data.root + "/")
    assert d.hash is not None and len(d.hash) == 64


def test_async_tasks_use_async_with_open(session: Session, tmp_path: Path) -> None:
    text, f = session.run(async_pipeline, text="from the loop").outputs()[0]
    assert text == "from the loop"
    # from_local inside a task uploads to the run's raw data folder, hashing as it goes.
    assert f.path.startswith(session.data.root + "/runs") and "/raw/" in f.path
    assert f.hash == hashlib.sha256(b"from the loop").hexdigest()


def test_new_remote_is_written_in_place_and_passed_by_reference(session: Session) -> None:
    f, g, text = session.run(remote_pipeline, text="streamed").outputs()[0]
    assert text == "streamed"
    assert g.path == f.path  # a stored file is never copied again
    assert f.name == "streamed.txt" and f.hash == hashlib.sha256(b"streamed").hexdigest()


def test_from_local_sync_inside_a_task_survives_deleting_the_local_copy(session: Session) -> None:
    f = session.run(upload_in_task, text="kept").outputs()[0]
    assert f.name == "uploaded.txt"
    with f.open_sync("rb") as fh:
        assert fh.read() == b"kept"


def test_dir_from_local_inside_a_task_and_download(session: Session) -> None:
    d = session.run(upload_tree_in_task).outputs()[0]
    assert d.name == "models"
    assert session.run(download_tree, d=d).outputs()[0] == ["v1/w.bin"]


def test_memory_data_store(tmp_path: Path) -> None:
    url = f"memory://files-tests-{uuid.uuid4().hex}"
    s = Session(data_url=url, run_store=str(tmp_path / "r.db"), root_dir=tmp_path)
    try:
        text, f = s.run(report_pipeline, text="in memory").outputs()[0]
        assert text == "in memory" and f.path.startswith(url + "/")
        contents, d = s.run(tree_pipeline).outputs()[0]
        assert contents == {"a.txt": "alpha", "b.txt": "beta"} and d.path.startswith(url + "/")
        text, f = s.run(async_pipeline, text="async in memory").outputs()[0]
        assert text == "async in memory" and f.path.startswith(url + "/")
        f, g, text = s.run(remote_pipeline, text="mem").outputs()[0]
        assert text == "mem" and g.path == f.path and f.path.startswith(url + "/")
    finally:
        s.close()


def test_a_local_input_file_is_uploaded_before_the_run(session: Session, tmp_path: Path) -> None:
    local = tmp_path / "input.csv"
    local.write_text("a,b\n")
    assert session.run(read_report, f=File(path=str(local))).outputs()[0] == "a,b\n"
    wrapped = File.from_local_sync(local)  # outside a task: wraps the path, nothing copied
    assert wrapped.path == str(local)
    assert session.run(read_report, f=wrapped).outputs()[0] == "a,b\n"


def test_returning_a_deleted_local_file_fails_naming_the_path(session: Session) -> None:
    with pytest.raises(Exception, match=r"gone\.txt' does not exist") as ei:
        session.run(deleted_file)
    assert "deleted_file" in str(ei.value)


def test_named_remote_is_stable_within_an_action(session: Session) -> None:
    f = session.run(named, attempt_text="first").outputs()[0]
    assert f.name == "stable.txt" and f.path.endswith("/named/a0/stable.txt")
    with f.open_sync("r") as fh:
        assert fh.read() == "first"


@pytest.mark.slow
def test_worker_processes_upload_and_read_through_the_store(tmp_path: Path) -> None:
    s = Session(backend="local-process", data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"),
                root_dir=Path(__file__).parent)
    try:
        text, f = s.run(report_pipeline, text="across processes").outputs()[0]
        assert text == "across processes" and f.path.startswith(str(tmp_path / "d") + "/")
        contents, _ = s.run(tree_pipeline).outputs()[0]
        assert contents == {"a.txt": "alpha", "b.txt": "beta"}
    finally:
        s.close()
