"""The worker's spec and outcome files and the wire format share one schema version."""

import json
import os
import subprocess
import sys
from pathlib import Path

from flyte_core import wire
from flyte_core.task.template import TaskRef
from flyte_core.worker import entrypoint


def test_spec_schema_matches_wire() -> None:
    # entrypoint keeps its own copy so a worker's start-up does not import cattrs (through wire)
    assert entrypoint.SCHEMA_VERSION == wire.SCHEMA_VERSION


def test_an_outcome_nobody_waits_for_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A worker finishing after its run was aborted finds its attempt's folder removed: it says so
    in one line and exits 1 (its output reaches the user's terminal)."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "wmod.py").write_text(
        "import flyte\nenv = flyte.TaskEnvironment('w')\n\n@env.task\ndef t() -> int:\n    return 1\n")
    gone = tmp_path / "attempt"  # the controller removed it
    spec = entrypoint.WorkerSpec(
        run_name="r1", action="a0", attempt=1, task=TaskRef("wmod", "t", "wmod.py"), task_name="w.t",
        code_root=str(tmp_path / "code"), inputs={}, outcome_path=str(gone / "outcome.json"),
        raw_data_path=str(tmp_path / "raw"), run_base_dir=str(tmp_path), data_url=None,
        data_prefix=str(tmp_path / "data"), backend="local-process", sys_path=sys.path[1:])
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec.to_json()))
    r = subprocess.run([sys.executable, "-m", "flyte_core.worker.entrypoint", str(spec_file)], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "FLYTE_HOME": str(tmp_path / "home")})
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == ("flyte: action a0: outcome not written, the run's controller no longer waits "
                                "for it (the run ended or was aborted)")
    assert not gone.exists()


def test_a_sync_worker_loads_every_plugin_but_not_asyncio_or_click(tmp_path: Path) -> None:
    """Every action of an out-of-process backend pays its worker's start-up: a sync task's worker
    loads the installed plugins (task kinds, types) but neither asyncio nor the command line."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "wmod.py").write_text(
        "import sys\nimport flyte\nenv = flyte.TaskEnvironment('w')\n\n@env.task\ndef t() -> str:\n"
        "    return ' '.join(m for m in ('asyncio', 'click', 'cattrs', 'rich', 'yaml') if m in sys.modules)\n")
    (tmp_path / "attempt").mkdir()
    spec = entrypoint.WorkerSpec(
        run_name="r1", action="a0", attempt=1, task=TaskRef("wmod", "t", "wmod.py"), task_name="w.t",
        code_root=str(tmp_path / "code"), inputs={}, outcome_path=str(tmp_path / "attempt" / "outcome.json"),
        raw_data_path=str(tmp_path / "raw"), run_base_dir=str(tmp_path), data_url=None,
        data_prefix=str(tmp_path / "data"), backend="local-process", sys_path=sys.path[1:])
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec.to_json()))
    r = subprocess.run([sys.executable, "-m", "flyte_core.worker.entrypoint", str(spec_file)], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "FLYTE_HOME": str(tmp_path / "home")})
    assert r.returncode == 0, r.stderr
    outcome = entrypoint.read_outcome(spec.outcome_path)
    assert outcome.error is None and outcome.outputs is not None
    assert outcome.outputs["o0"]["d"] == ""  # none of them was imported
