"""Reading runs back: ``flyte runs show`` pages a 10,000-action run (every action once, in creation
order), ``flyte runs list`` counts and filters runs; and the read commands (and ``import flyte``) load
only what they use: no plugin, no session machinery, no Kubernetes client for a finished run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

N = 10_000
PAGE = 1000

TASKS = '''
import flyte

env = flyte.TaskEnvironment(name="big")


@env.task
def inc(x: int) -> int:
    return x + 1


@env.task
def chain(n: int) -> int:
    return sum(inc(i) for i in range(n))
'''


def flyte(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], capture_output=True, text=True, cwd=cwd,
                         env={**os.environ, "FLYTE_HOME": str(cwd / "home")}, timeout=300)
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose run store holds a run ``big`` of N + 1 actions and three small runs after it."""
    root = tmp_path_factory.mktemp("store")
    (root / "wf.py").write_text(TASKS)
    flyte(root, "run", "--no-progress", "--name", "big", "wf.py", "chain", "--n", str(N))
    for name in ("small-1", "small-2", "small-3"):
        flyte(root, "run", "--no-progress", "--name", name, "wf.py", "chain", "--n", "2")
    return root


def test_runs_show_pages_every_action_once_in_creation_order(store: Path) -> None:
    seen: list[str] = []
    for offset in range(0, N + 1, PAGE):
        out = flyte(store, "runs", "show", "big", "--json", "--limit", str(PAGE), "--offset", str(offset))
        page = [a["action"] for a in json.loads(out.stdout)["actions"]]
        last = offset + len(page)
        assert len(page) == min(PAGE, N + 1 - offset)
        more = f"; --offset {last} for the next page" if last < N + 1 else ""
        assert out.stderr.strip() == f"actions {offset + 1}-{last} of {N + 1:,}{more}"
        seen += page
    assert seen == ["a0"] + [f"a0.{i}" for i in range(1, N + 1)]


def test_runs_show_defaults_to_the_first_page_and_limit_0_shows_all(store: Path) -> None:
    first = flyte(store, "runs", "show", "big", "--json")
    assert len(json.loads(first.stdout)["actions"]) == PAGE
    assert "of 10,001; --offset 1000 for the next page" in first.stderr
    tree = flyte(store, "runs", "show", "big")  # the tree as printed: the run's header, then the page
    assert "Run big · big.chain · ✓ succeeded" in tree.stdout and "a0.999 big.inc" in tree.stdout
    assert "a0.1000 " not in tree.stdout
    everything = json.loads(flyte(store, "runs", "show", "big", "--json", "--limit", "0").stdout)
    assert len(everything["actions"]) == N + 1


def test_runs_list_counts_newest_first_and_filters(store: Path) -> None:
    listed = json.loads(flyte(store, "runs", "list", "--json").stdout)
    assert [r["name"] for r in listed] == ["small-3", "small-2", "small-1", "big"]
    assert all(r["phase"] == "succeeded" for r in listed)
    assert [r["name"] for r in json.loads(flyte(store, "runs", "list", "--json", "--limit", "2").stdout)] == [
        "small-3", "small-2"]
    assert len(json.loads(flyte(store, "runs", "list", "--json", "--task", "big.chain").stdout)) == 4
    assert json.loads(flyte(store, "runs", "list", "--json", "--task", "big.inc").stdout) == []
    table = flyte(store, "runs", "list")
    assert [line.split()[0] for line in table.stdout.splitlines()[2:]] == ["small-3", "small-2", "small-1", "big"]


# --- what each entry point imports (module sets, not times) ---------------------------------------------

def _modules(cwd: Path, code: str) -> set[str]:
    """The modules loaded after ``code`` ran in a fresh interpreter (a CLI's exit included)."""
    probe = (f"import sys, json\ntry:\n    exec({code!r})\nexcept SystemExit:\n    pass\n"
             "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd, timeout=120,
                         env={**os.environ, "FLYTE_HOME": str(cwd / "home")})
    return set(json.loads(out.stderr.rpartition("\nMODULES ")[2]))


def _cli(*args: str) -> str:
    return f"import sys\nsys.argv = ['flyte', *{list(args)!r}]\nfrom flyte_core.cli.main import main\nmain()"


def test_import_flyte_loads_no_core_module_until_a_name_is_used(tmp_path: Path) -> None:
    loaded = _modules(tmp_path, "import flyte")
    assert {m for m in loaded if m.startswith("flyte_core.")} == set()
    assert "attrs" not in loaded
    defined = _modules(tmp_path, TASKS)
    assert "flyte_core.task.environment" in defined
    for heavy in ("flyte_core.images.spec", "flyte_core.task.triggers", "flyte_core.run.session", "pluggy",
                  "flyte_core.security.secrets", "flyte_core.runtime.checkpoint", "flyte_core.runstore.records"):
        assert heavy not in defined, f"defining tasks imported {heavy}"


def test_reading_a_finished_run_loads_no_plugin(store: Path) -> None:
    for args in (("runs", "list"), ("runs", "show", "big", "--limit", "20")):
        loaded = _modules(store, _cli(*args))
        plugins = sorted(m for m in loaded if m.startswith(("flyte_backend_", "flyte_types_", "flyte_triggers",
                                                            "flyte_apps", "flyte_ui", "pluggy")))
        assert plugins == [], f"flyte {' '.join(args)} imported {plugins}"
        assert "flyte_core.run.session" not in loaded and "kubernetes" not in loaded
    # The list is a plain table (flyte_core.cli.table): rich costs more than the rest of the command.
    assert not any(m.split(".")[0] == "rich" for m in _modules(store, _cli("runs", "list")))


def test_runs_abort_starts_without_the_kubernetes_client(tmp_path: Path) -> None:
    """A project on the kubernetes backend: aborting a run (here one that is not there) needs the client
    only for a run a launcher drives in the cluster, and plugins only for a run still going."""
    (tmp_path / ".flyte").mkdir()
    (tmp_path / ".flyte" / "config.yaml").write_text("backend: kubernetes\nbackends:\n  kubernetes:\n"
                                                     "    namespace: flyte-test\n")
    loaded = _modules(tmp_path, _cli("runs", "abort", "no-such-run"))
    assert "flyte_core.run.session" in loaded  # it did get as far as asking the session
    assert not {m for m in loaded if m == "kubernetes" or m.startswith("kubernetes.")}
    assert not {m for m in loaded if m.startswith(("flyte_backend_", "flyte_types_"))}  # no plugin loaded
