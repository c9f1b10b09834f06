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


def run_worker(tmp_path: Path, module: str, returns: str, body: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run ``python -m flyte_core.worker.entrypoint`` on the task ``t`` of module ``wmod`` (``module``
    holds its imports, then ``def t() -> returns:`` with ``body``); returns the process and where the
    outcome goes (``tmp_path/attempt/outcome.json``, whose folder the caller makes or not)."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "wmod.py").write_text(
        f"{module}\nimport flyte\nenv = flyte.TaskEnvironment('w')\n\n@env.task\ndef t() -> {returns}:\n"
        f"    {body}\n")
    outcome = tmp_path / "attempt" / "outcome.json"
    spec = entrypoint.WorkerSpec(
        run_name="r1", action="a0", attempt=1, task=TaskRef("wmod", "t", "wmod.py"), task_name="w.t",
        code_root=str(tmp_path / "code"), inputs={}, outcome_path=str(outcome),
        raw_data_path=str(tmp_path / "raw"), run_base_dir=str(tmp_path), data_url=None,
        data_prefix=str(tmp_path / "data"), backend="local-process", sys_path=sys.path[1:])
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec.to_json()))
    r = subprocess.run([sys.executable, "-m", "flyte_core.worker.entrypoint", str(spec_file)], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "FLYTE_HOME": str(tmp_path / "home")})
    return r, outcome


def test_an_outcome_nobody_waits_for_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    """A worker finishing after its run was aborted finds its attempt's folder removed: it says so
    in one line and exits 1 (its output reaches the user's terminal)."""
    r, outcome = run_worker(tmp_path, "", "int", "return 1")  # the controller removed the attempt's folder
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == ("flyte: action a0: outcome not written, the run's controller no longer waits "
                                "for it (the run ended or was aborted)")
    assert not outcome.parent.exists()


def test_a_sync_worker_loads_every_plugin_but_not_asyncio_or_click(tmp_path: Path) -> None:
    """Every action of an out-of-process backend pays its worker's start-up: a sync task's worker
    loads the installed plugins (task kinds, types) but neither asyncio nor the command line, nor
    the run store's records (a failure is reported as an ErrorInfo, which lives apart), nor pickle,
    nor the backend interface (its outcome is an ActionOutcome, which lives apart too), nor traceback
    (a failure's only)."""
    (tmp_path / "attempt").mkdir()
    heavy = ("('asyncio', 'click', 'cattrs', 'rich', 'yaml', 'flyte_core.runstore.records', 'pickle', 'secrets', "
             "'flyte_core.run.backend', 'traceback')")
    r, path = run_worker(tmp_path, "import sys", "str", f"return ' '.join(m for m in {heavy} if m in sys.modules)")
    assert r.returncode == 0, r.stderr
    outcome = entrypoint.read_outcome(str(path))
    assert outcome.error is None and outcome.outputs is not None
    assert outcome.outputs["o0"]["d"] == ""  # none of them was imported
