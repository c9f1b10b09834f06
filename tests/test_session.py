"""Configuration and embedding: sessions are explicit objects; flyte.init is a convenience."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

import flyte
from flyte_core.config.files import load_config
from flyte_core.errors.core import ConfigError
from flyte_core.run.session import Session
from flyte_core.runstore.sqlite import SQLiteRunStore
from tests import seed_tasks as t


def test_defaults_live_under_flyte_home(tmp_path: Path) -> None:
    cfg = load_config()
    assert cfg.backend == "local"
    assert cfg.runs_path == str(tmp_path / "home" / "runs.db")
    assert cfg.source is None


def test_config_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".flyte").mkdir()
    (tmp_path / ".flyte" / "config.yaml").write_text("storage:\n  runs: local.db\n")
    assert load_config().runs_path == str(tmp_path / ".flyte" / "local.db")
    env_cfg = tmp_path / "env.yaml"
    env_cfg.write_text("backend: local-process\n")
    monkeypatch.setenv("FLYTE_CONFIG", str(env_cfg))
    assert load_config().backend == "local-process"
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text("storage:\n  data: memory://flyte\n")
    assert load_config(explicit).data_url == "memory://flyte"


def test_bad_config_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Config file '.*nope.yaml' does not exist"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("backend: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(bad)
    bad.write_text("bakend: local\n")
    with pytest.raises(ConfigError, match="unknown key\\(s\\) bakend"):
        load_config(bad)


def test_init_from_config_uses_the_configured_stores(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"backend: local\nstorage:\n  data: {tmp_path}/d\n  runs: {tmp_path}/r.db\n")
    flyte.init_from_config(str(cfg))
    run = flyte.run(t.greet, name="cfg")
    assert run.url.startswith(f"{tmp_path}/d/runs/")
    assert SQLiteRunStore(tmp_path / "r.db").get_run(run.name) is not None


def test_data_store_can_be_any_fsspec_url(tmp_path: Path) -> None:
    s = Session(data_url="memory://flyte-test", run_store=str(tmp_path / "r.db"))
    assert s.run(t.pipeline, x=1).outputs()[0] == 12
    assert s.run(t.pipeline, x=1).url.startswith("memory://flyte-test/runs/")


def test_two_sessions_side_by_side_concurrently(tmp_path: Path, no_thread_leak: None) -> None:
    a = Session(data_url=str(tmp_path / "a"), run_store=str(tmp_path / "a.db"))
    b = Session(data_url=str(tmp_path / "b"), run_store=str(tmp_path / "b.db"))
    results: dict[str, list[int]] = {"a": [], "b": []}

    def work(name: str, s: Session) -> None:
        for i in range(5):
            results[name].append(s.run(t.fan_out, n=i).outputs()[0][-1] if i else 0)

    threads = [threading.Thread(target=work, args=(n, s)) for n, s in (("a", a), ("b", b))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == {"a": [0, 0, 1, 4, 9], "b": [0, 0, 1, 4, 9]}
    assert len(a.runs.list_runs()) == 4 and len(b.runs.list_runs()) == 4
    assert not set(r.name for r in a.runs.list_runs()) & set(r.name for r in b.runs.list_runs())
    a.close()
    b.close()


def test_importing_flyte_has_no_side_effects() -> None:
    code = (
        "import sys, threading, flyte, flyte_core; "
        "assert threading.active_count() == 1; "
        "assert not any(m.startswith('flyte_backend_local') for m in sys.modules), 'plugins imported'; "
        "import flyte_core.api.runs as api; assert api._default is None; print('ok')"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "ok", r.stderr


def test_plugins_autoload_can_be_disabled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLYTE_DISABLE_PLUGIN_AUTOLOAD", "1")
    s = Session(run_store=str(tmp_path / "r.db"))
    assert "local" not in s.backends
    from flyte_core.errors.core import PluginError

    with pytest.raises(PluginError, match="No backend named 'local'"):
        s.run(t.greet, name="x")
