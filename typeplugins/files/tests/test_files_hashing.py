"""User hash methods (flyte.io.HashFunction, hashlib objects) on File and Dir: their result is the
value's hash, and so the cache key of the tasks that take it."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from flyte_types_files import Dir, File
from flyte_types_files.hashing import HashFunction, HashlibAccumulator, HashMethod, PrecomputedValue

import flyte
from flyte_core.extend import Session, TaskEnvironment

env = TaskEnvironment(name="files_hashing")
CALLS: list[str] = []


def md5_of(data: memoryview) -> str:
    return "md5:" + hashlib.md5(bytes(data)).hexdigest()


@env.task
def upload(text: str) -> File:
    path = Path(tempfile.mkdtemp()) / "data.txt"
    path.write_text(text)
    return File.from_local_sync(path, hash_method=HashFunction.from_fn(md5_of))


@env.task
def write_remote(text: str) -> File:
    f = File.new_remote("w.txt", hash_method=HashlibAccumulator.from_hash_name("sha1"))
    with f.open_sync("wb") as fh:
        fh.write(text[:3].encode())
        fh.write(text[3:].encode())
    return f


@env.task
async def write_remote_async(text: str) -> File:
    f = File.new_remote("a.txt", hash_method=hashlib.blake2b())
    async with f.open("wb") as fh:
        await fh.write(text.encode())
    return f


@env.task(cache=flyte.Cache(behavior="override", version_override="v1"))
def consume(f: File) -> str:
    CALLS.append(f.path)
    with f.open_sync("rb") as fh:
        return fh.read().decode()


@env.task
def same_key_twice(a: str, b: str) -> list[str]:
    """Two files with different bytes but the same user hash: the second call is a cache hit."""
    fa = upload(a)
    fb = File.from_local_sync(_local(b), hash_method=fa.hash)  # a precomputed key, as a string
    return [consume(fa), consume(fb)]


def _local(text: str) -> str:
    path = Path(tempfile.mkdtemp()) / "data.txt"  # the name is part of the value, the place is not
    path.write_text(text)
    return str(path)


@pytest.fixture
def session(flyte_session: Session) -> Session:
    return flyte_session


def test_hash_function_of_a_local_file_outside_a_task(tmp_path: Path) -> None:
    p = tmp_path / "x.bin"
    p.write_bytes(b"x" * 100)
    f = File.from_local_sync(p, hash_method=HashFunction.from_fn(md5_of))
    assert f.hash == "md5:" + hashlib.md5(b"x" * 100).hexdigest()
    assert f.path == str(p)  # outside a task the file stays where it is


def test_hashlib_objects_and_accumulators_see_every_chunk(tmp_path: Path) -> None:
    from flyte_types_files import storage

    data = os.urandom(storage.CHUNK * 2 + 17)  # three chunks
    p = tmp_path / "big.bin"
    p.write_bytes(data)
    assert File.from_local_sync(p, hash_method=hashlib.sha1()).hash == hashlib.sha1(data).hexdigest()
    acc = HashlibAccumulator.from_hash_name("md5")
    assert File.from_local_sync(p, hash_method=acc).hash == hashlib.md5(data).hexdigest()


def test_a_string_is_a_precomputed_key(tmp_path: Path) -> None:
    p = tmp_path / "k.txt"
    p.write_text("k")
    assert File.from_local_sync(p, hash_method="my-key").hash == "my-key"
    assert File.new_remote(hash_method="key2").hash == "key2"


def test_hash_method_protocol_and_helpers() -> None:
    fn = HashFunction.from_fn(lambda d: f"n{len(d)}")
    assert isinstance(fn, HashMethod) and isinstance(PrecomputedValue("v"), HashMethod)
    with pytest.raises(ValueError, match="before any data"):
        fn.result()
    fn.update(b"abc")
    assert fn.result() == "n3"
    bad = HashFunction.from_fn(lambda d: 3)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="not a str"):
        bad.update(b"x")


def test_a_wrong_hash_method_is_refused_with_what_to_pass(tmp_path: Path) -> None:
    p = tmp_path / "w.txt"
    p.write_text("w")
    with pytest.raises(TypeError, match=r"File.from_local: hash_method must be .*HashFunction.*got int"):
        File.from_local_sync(p, hash_method=3)  # type: ignore[arg-type]


def test_new_remote_writes_are_hashed_on_close(tmp_path: Path) -> None:
    f = File.new_remote(hash_method=HashlibAccumulator.from_hash_name("md5"))
    assert f.hash is None
    with f.open_sync("w") as fh:  # text is hashed as UTF-8
        fh.write("héllo")
    assert f.hash == hashlib.md5("héllo".encode()).hexdigest()


def test_dir_hash_method_sees_every_file_in_path_order(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    (root / "b").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"A")
    (root / "b" / "c.txt").write_bytes(b"C")
    d = Dir.from_local_sync(root, hash_method=hashlib.sha256())
    assert d.hash == hashlib.sha256(b"AC").hexdigest()
    assert Dir.from_local_sync(root, dir_cache_key="given").hash == "given"


def test_user_hashes_cross_task_boundaries(session: Session) -> None:
    f = session.run(upload, text="payload").outputs()[0]
    assert f.hash == "md5:" + hashlib.md5(b"payload").hexdigest()
    g = session.run(write_remote, text="abcdef").outputs()[0]
    assert g.hash == hashlib.sha1(b"abcdef").hexdigest()
    h = session.run(write_remote_async, text="async").outputs()[0]
    assert h.hash == hashlib.blake2b(b"async").hexdigest()


def test_the_user_hash_is_the_cache_key(session: Session) -> None:
    CALLS.clear()
    run = session.run(same_key_twice, a="first", b="second")
    # Same key, so the second call returns the first call's output without running.
    assert run.outputs()[0] == ["first", "first"]
    assert len(CALLS) == 1
    assert [a.cache_hit for a in run.actions() if a.task.endswith("consume")] == [False, True]


@env.task
def constructed_with_a_method(text: str) -> File:
    path = Path(tempfile.mkdtemp()) / "made.txt"
    path.write_text(text)
    return File(path=str(path), hash_method=hashlib.md5())  # hashed when the output is stored


def test_a_file_constructed_with_a_hash_method_is_hashed_when_stored(session: Session) -> None:
    f = session.run(constructed_with_a_method, text="made").outputs()[0]
    assert f.hash == hashlib.md5(b"made").hexdigest()
    assert f.path.startswith(session.data.root + "/")
