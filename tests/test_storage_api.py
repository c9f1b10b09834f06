"""flyte.storage: settings objects as fsspec options, and the file operations on local and memory:// stores."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

import flyte
import flyte.storage as fs
from flyte_core.storage import config as storageconfig
from flyte_core.storage.datastore import DataStore
from tests import surface_tasks as t


@pytest.fixture(autouse=True)
def _reset() -> object:
    yield
    storageconfig.reset()


def test_s3_settings_become_s3fs_options() -> None:
    s3 = fs.S3(endpoint="http://minio:9000", access_key_id="k", secret_access_key="s", region="eu-west-1",
               addressing_style="path", retries=5)
    kw = s3.get_fsspec_kwargs()
    assert kw["key"] == "k" and kw["secret"] == "s" and kw["endpoint_url"] == "http://minio:9000"
    assert kw["client_kwargs"] == {"region_name": "eu-west-1"}
    assert kw["config_kwargs"] == {"retries": {"max_attempts": 5}, "s3": {"addressing_style": "path"}}
    assert fs.S3().get_fsspec_kwargs(anonymous=True)["anon"] is True
    assert fs.GCS().get_fsspec_kwargs(anonymous=True) == {"token": "anon"}
    assert fs.ABFS(account_name="acct").get_fsspec_kwargs() == {"account_name": "acct"}


def test_auto_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_AWS_ENDPOINT", "http://localhost:4566")
    monkeypatch.setenv("FLYTE_STORAGE_RETRIES", "7")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")
    s3 = fs.S3.auto(region="us-east-2")
    assert (s3.endpoint, s3.region, s3.retries) == ("http://localhost:4566", "us-east-2", 7)
    assert fs.ABFS.auto().account_name == "acct"
    assert fs.Storage.auto().retries == 7 and fs.GCS.auto().backoff == timedelta(seconds=5)


def test_init_with_a_storage_setting_configures_its_protocol() -> None:
    flyte.init(storage=fs.S3(endpoint="http://minio:9000", access_key_id="k", secret_access_key="s"))
    assert fs.get_configured_fsspec_kwargs("s3")["endpoint_url"] == "http://minio:9000"
    assert fs.get_configured_fsspec_kwargs("s3a")["key"] == "k"
    assert storageconfig.fsspec_kwargs("gs") == {}  # GCS.auto() has nothing to add
    assert fs.get_configured_fsspec_kwargs("memory") == {}


def test_a_data_store_picks_up_the_settings_of_its_protocol() -> None:
    class Memory(storageconfig.Storage):
        protocols = ("memory",)

        def get_fsspec_kwargs(self, anonymous: bool = False, **kwargs: object) -> dict[str, object]:
            return {"skip_instance_cache": True}

    storageconfig.configure(Memory())
    assert DataStore("memory://bucket/x").storage_options == {"skip_instance_cache": True}
    assert DataStore("memory://bucket/x", custom=1).storage_options == {"custom": 1}  # explicit options win
    with pytest.raises(TypeError, match=r"flyte\.storage\.S3"):
        storageconfig.configure("s3://nope")  # type: ignore[arg-type]


def test_put_get_exists_and_streams_on_memory(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("hello")
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "b.txt").write_text("bee")

    async def go() -> None:
        url = await fs.put(str(src), "memory://surface/a.txt")
        assert url == "memory://surface/a.txt" and await fs.exists(url) and fs.exists_sync(url)
        local = await fs.get(url)
        assert Path(local).read_text() == "hello" and Path(local).name == "a.txt"
        with pytest.raises(IsADirectoryError, match="recursive=True"):
            await fs.put(str(folder), "memory://surface/f")
        await fs.put(str(folder), "memory://surface/f", recursive=True)
        back = await fs.get("memory://surface/f", tmp_path / "back", recursive=True)
        assert (Path(back) / "sub" / "b.txt").read_text() == "bee"
        async def chunks() -> object:
            for c in (b"ab", b"cd", b"ef"):
                yield c
        streamed = await fs.put_stream(chunks(), to_path="memory://surface/s.bin")
        assert [c async for c in fs.get_stream(streamed, chunk_size=4)] == [b"abcd", b"ef"]
        async with await fs.open("memory://surface/w.txt", "wb") as f:
            await f.write(b"written")
        async with await fs.open("memory://surface/w.txt", "rb") as f:
            assert await f.read() == b"written"
        with pytest.raises(FileNotFoundError, match="nope"):
            await fs.get("memory://surface/nope")

    asyncio.run(go())


def test_paths_and_filesystems() -> None:
    assert fs.join("s3://bucket/", "a", "/b/") == "s3://bucket/a/b"
    assert fs.is_remote("s3://b/x") and fs.is_remote("memory://x") and not fs.is_remote("/tmp/x")
    from fsspec.implementations.memory import MemoryFileSystem

    assert isinstance(fs.get_underlying_filesystem(path="memory://x"), MemoryFileSystem)
    d = fs.get_random_local_directory()
    assert d.is_dir() and not any(d.iterdir())
    p = fs.get_random_local_path("keep.csv")
    assert p.name == "keep.csv" and not p.exists() and p.parent.is_dir()


def test_inside_a_task_a_stream_without_destination_lands_in_the_raw_data_path() -> None:
    flyte.init()
    run = flyte.run(t.upload_here, text="hi")
    path = run.outputs()[0]
    assert path.endswith("/greeting.txt") and f"/runs/{run.name}/raw/" in path
    assert Path(path).read_text() == "hi"
