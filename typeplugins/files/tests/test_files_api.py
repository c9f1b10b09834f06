"""The flyte.io File/Dir API outside tasks, and the transformers' specific rules."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from pathlib import Path

import fsspec
import pytest
from flyte_types_files import Dir, File, plugin
from flyte_types_files.transformer import DIR, FILE

import flyte
import flyte.io
from flyte_core.extend import ConversionContext, DataStore, Session


def _mem(prefix: str = "api") -> str:
    return f"memory://files-{prefix}-{uuid.uuid4().hex}"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "a.txt").write_text("a")
    (root / "b.csv").write_text("b")
    (root / "sub" / "c.txt").write_text("c")
    (root / "sub" / "deep" / "d.txt").write_text("d")
    return root


@pytest.fixture
def ctx(tmp_path: Path) -> ConversionContext:
    return ConversionContext(store=DataStore(str(tmp_path / "store")), prefix=str(tmp_path / "store" / "p"))


@pytest.fixture
def session(flyte_session: Session) -> Session:
    """The isolated session of flyte-core's pytest plugin (stores in a temporary folder)."""
    return flyte_session


def test_users_import_them_from_flyte_io_and_flyte() -> None:
    assert flyte.io.File is File and flyte.io.Dir is Dir
    assert flyte.File is File and flyte.Directory is Dir


def test_the_plugin_answers_for_file_and_dir_only(session: Session) -> None:
    engine = session.engine
    assert engine.find_transformer(File) is FILE
    assert engine.find_transformer(File["csv"]) is FILE
    assert engine.find_transformer(Dir) is DIR
    assert plugin.flyte_type_transformer(python_type=str, hint=str) is None
    assert plugin.flyte_type_transformer(python_type=object, hint=File) is None


def test_names_default_to_the_last_path_part() -> None:
    assert File(path="s3://bucket/x/data.csv").name == "data.csv"
    assert File(path=Path("/tmp/y.txt")).path == "/tmp/y.txt"
    assert File(path="/tmp/y.txt", name="shown.txt").name == "shown.txt"
    assert Dir(path="s3://bucket/prefix/").name == "prefix"
    assert File.from_existing_remote("memory://a/b.bin", file_cache_key="k").hash == "k"


def test_open_write_read_and_exists_on_any_filesystem() -> None:
    f = File(path=_mem() + "/x/notes.txt")
    assert not f.exists_sync()
    with f.open_sync("w") as fh:
        fh.write("line 1\nline 2\n")
    assert f.exists_sync() and asyncio.run(f.exists())
    with f.open_sync("r") as fh:
        assert fh.read().splitlines() == ["line 1", "line 2"]


def test_async_open_reads_writes_and_iterates_lines(tmp_path: Path) -> None:
    f = File(path=str(tmp_path / "out" / "a.txt"))  # parent folder created on write

    async def go() -> list[bytes]:
        async with f.open("wb") as fh:
            await fh.write(b"one\ntwo\n")
        async with f.open() as fh:
            return [line async for line in fh]

    assert asyncio.run(go()) == [b"one\n", b"two\n"]


def test_new_remote_outside_a_task_is_a_fresh_local_path() -> None:
    a, b = File.new_remote(), File.new_remote("named.bin")
    assert a.path != b.path and b.name == "named.bin"
    with b.open_sync("wb") as fh:
        fh.write(b"x")
    assert Path(b.path).read_bytes() == b"x"
    with pytest.raises(ValueError, match="without path separators"):
        File.named_remote("a/b.txt")


def test_from_local_checks_the_path_and_uploads_to_a_destination(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'.*missing\.txt' does not exist"):
        File.from_local_sync(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="is a directory"):
        asyncio.run(File.from_local(tmp_path))
    src = tmp_path / "src.txt"
    src.write_bytes(b"payload")
    dest = _mem() + "/up/src.txt"
    f = File.from_local_sync(src, remote_destination=dest)
    assert f.path == dest and f.name == "src.txt" and f.hash == hashlib.sha256(b"payload").hexdigest()
    with f.open_sync() as fh:
        assert fh.read() == b"payload"


def test_download_to_temp_folder_file_or_directory(tmp_path: Path) -> None:
    f = File(path=_mem() + "/d/data.bin")
    with f.open_sync("wb") as fh:
        fh.write(b"123")
    assert Path(f.download_sync()).read_bytes() == b"123"
    assert f.download_sync(tmp_path / "copy.bin") == str(tmp_path / "copy.bin")
    (tmp_path / "into").mkdir()
    assert asyncio.run(f.download(tmp_path / "into")) == str(tmp_path / "into" / "data.bin")
    assert Path(File(path=str(tmp_path / "copy.bin")).download_sync(str(tmp_path / "new") + "/")).read_bytes() == b"123"


def test_walk_filters_by_pattern_depth_and_recursion(tree: Path) -> None:
    d = Dir(path=str(tree))
    names = [f.name for f in d.walk_sync()]
    assert sorted(names) == ["a.txt", "b.csv", "c.txt", "d.txt"]
    assert [f.name for f in d.walk_sync(recursive=False)] == ["a.txt", "b.csv"]
    assert sorted(f.name for f in d.walk_sync(max_depth=2)) == ["a.txt", "b.csv", "c.txt"]
    assert sorted(f.name for f in d.walk_sync(file_pattern="*.txt")) == ["a.txt", "c.txt", "d.txt"]

    async def walk() -> list[str]:
        return [f.name or "" async for f in d.walk()]

    assert sorted(asyncio.run(walk())) == sorted(names)
    assert [f.name for f in d.list_files_sync()] == [f.name for f in asyncio.run(d.list_files())]


def test_get_file_exists_is_empty_and_download(tree: Path, tmp_path: Path) -> None:
    d = Dir(path=str(tree))
    got = d.get_file_sync("sub/c.txt")
    assert got is not None and got.name == "c.txt" and Path(got.path).read_text() == "c"
    assert d.get_file_sync("nope.txt") is None and asyncio.run(d.get_file("a.txt")) is not None
    assert d.exists_sync() and not d.is_empty
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not Dir(path=str(empty)).list_files_sync() and not Dir(path=str(empty)).is_empty  # real, no files
    assert not asyncio.run(Dir(path=str(tmp_path / "absent")).exists())
    assert d.download_sync() == str(tree)  # already local: nothing to copy
    out = Path(d.download_sync(tmp_path / "copy"))
    copied = sorted(str(p.relative_to(out)) for p in out.rglob("*.*"))
    assert copied == ["a.txt", "b.csv", "sub/c.txt", "sub/deep/d.txt"]


def test_dir_from_local_to_a_destination_and_back(tree: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        Dir.from_local_sync(tmp_path / "missing")
    assert Dir.from_local_sync(tree).path == str(tree)  # outside a task: wrapped as it is
    dest = _mem()
    d = asyncio.run(Dir.from_local(tree, remote_destination=dest))
    assert d.path == dest and d.name == "tree" and d.hash is not None
    assert sorted(f.name for f in d.walk_sync()) == ["a.txt", "b.csv", "c.txt", "d.txt"]
    local = Path(asyncio.run(d.download()))
    assert (local / "sub" / "deep" / "d.txt").read_text() == "d"


def test_dir_hash_depends_on_paths_and_content_only(tree: Path, ctx: ConversionContext) -> None:
    conv = DIR.compile(Dir, None)  # type: ignore[arg-type]
    first = conv.to_literal(Dir(path=str(tree)), ctx)["hash"]
    assert conv.to_literal(Dir(path=str(tree), name="other"), ctx)["hash"] == first
    (tree / "a.txt").rename(tree / "z.txt")
    renamed = conv.to_literal(Dir(path=str(tree)), ctx)["hash"]
    assert renamed != first
    (tree / "z.txt").write_text("changed")
    assert conv.to_literal(Dir(path=str(tree)), ctx)["hash"] not in (first, renamed)


def test_local_files_are_uploaded_and_stored_ones_passed_by_reference(tmp_path: Path, ctx: ConversionContext) -> None:
    conv = FILE.compile(File, None)  # type: ignore[arg-type]
    src = tmp_path / "local.txt"
    src.write_text("abc")
    lit = conv.to_literal(File(path=str(src), name="shown.txt"), ctx)
    assert lit["uri"].startswith(str(tmp_path / "store" / "p")) and lit["uri"].endswith("/shown.txt")
    assert lit == {"uri": lit["uri"], "name": "shown.txt", "format": "", "hash": hashlib.sha256(b"abc").hexdigest()}
    back = conv.to_python(lit, ctx)
    assert back.path == lit["uri"] and back.hash == lit["hash"]
    again = conv.to_literal(back, ctx)
    assert again == lit  # already in the store: same URI, hash kept, nothing copied
    # A known hash is kept as given without reading the file (it does not even exist here).
    ref = File.from_existing_remote(_mem() + "/absent.bin", file_cache_key="given")
    assert conv.to_literal(ref, ctx)["hash"] == "given"
    with pytest.raises(ValueError, match=r"absent\.bin' does not exist"):
        conv.to_literal(File(path=_mem() + "/absent.bin"), ctx)
    with pytest.raises(ValueError, match=r"missing' does not exist"):
        DIR.compile(Dir, None).to_literal(Dir(path=_mem() + "/missing"), ctx)  # type: ignore[arg-type]


def test_remote_files_are_hashed_once_by_streaming(ctx: ConversionContext) -> None:
    url = _mem() + "/big.bin"
    data = b"\x07" * (3 * 1024 * 1024 + 5)
    fsspec.filesystem("memory").pipe_file(url.split("://", 1)[1], data)
    lit = FILE.compile(File, None).to_literal(File(path=url), ctx)  # type: ignore[arg-type]
    assert lit["uri"] == url and lit["hash"] == hashlib.sha256(data).hexdigest()


def test_generic_format_parameter(tmp_path: Path, ctx: ConversionContext, session: Session) -> None:
    conv = session.engine.converter(File["csv"])
    assert conv.literal_type == {"type": "blob", "dimensionality": "single", "format": "csv"}
    src = tmp_path / "t.csv"
    src.write_text("a\n")
    lit = conv.to_literal(File(path=str(src)), ctx)
    assert lit["format"] == "csv" and conv.to_python(lit, ctx).format == "csv"
    assert conv.to_literal(File(path=str(src), format="tsv"), ctx)["format"] == "tsv"
    assert session.engine.converter(Dir["parquet"]).literal_type["format"] == "parquet"


def test_from_cli_takes_paths_or_urls(tmp_path: Path, session: Session) -> None:
    fconv, dconv = session.engine.converter(File), session.engine.converter(Dir)
    assert fconv.cli_form == dconv.cli_form == "path or URL"
    src = tmp_path / "in.txt"
    src.write_text("x")
    assert fconv.from_cli is not None and dconv.from_cli is not None
    assert fconv.from_cli("in.txt") == File(path=str(src))  # relative to the working folder
    assert fconv.from_cli("s3://bucket/key.csv").path == "s3://bucket/key.csv"
    with pytest.raises(ValueError, match=r"'.*nope\.txt' does not exist"):
        fconv.from_cli(str(tmp_path / "nope.txt"))
    with pytest.raises(ValueError, match="is a directory"):
        fconv.from_cli(str(tmp_path))
    assert dconv.from_cli(str(tmp_path)).path == str(tmp_path)
    assert dconv.from_cli("gs://bucket/prefix/").name == "prefix"
    with pytest.raises(ValueError, match="is a file, not a directory"):
        dconv.from_cli(str(src))
