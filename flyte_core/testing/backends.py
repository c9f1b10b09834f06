"""A conformance suite a backend runs against itself, as fsspec's abstract tests are used::

    from flyte_core.testing.backends import BackendSuite

    class TestDocker(BackendSuite):
        backend = "docker"
        backend_options = {"network": "host"}

Every backend runs the same programs with the same expected outcomes: the seed's examples, nesting,
async fan-out, ``flyte.map``, ``flyte.group``, core types across the action boundary, a failing
task, retries, a timeout, logs, ``flyte.ctx()``, ``flyte.custom_context`` across calls, a child's
exception caught by its own type, checkpoints and ``flyte.durable`` values surviving a retry and
``--recover``, a task kind (``plugin_config``) of a plugin the session names (its workers must load
the session's plugins), and that nothing a run started is left behind.
The programs are a real task module, :data:`TASKS_SOURCE`, written into the session's project
folder (its ``root_dir``) as ``conformance_tasks.py`` and loaded as user code is, so worker
processes, containers and pods import it exactly as they would a user's file; next to it,
``conformance_kinds.py`` (:data:`KINDS_SOURCE`), a plugin the suite names to the session.

Override the :meth:`BackendSuite.session` fixture to put the stores where the backend's workers
can reach them, and :meth:`BackendSuite.assert_nothing_left` to check the backend's own resources
(containers, pods). A backend that legitimately cannot do something lists the test's name in
:attr:`BackendSuite.skip`; the test is then skipped with a reason naming the backend.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

from flyte_core.config.files import Config
from flyte_core.errors.core import RuntimeUserError
from flyte_core.run.handle import Run
from flyte_core.run.session import Session
from flyte_core.runstore.records import Phase
from flyte_core.task.loader import load_file
from flyte_core.task.template import TaskTemplate
from flyte_core.testing.backend_settings import SettingsTests
from flyte_core.testing.inspection import by_action, child_processes, cmdline, tree

#: The module name (and file stem) of the conformance tasks in the project folder.
TASKS_MODULE = "conformance_tasks"

#: The conformance tasks, written exactly as a user would write them (shipped as a module of this
#: package so linters and type checkers read it too; the suite copies its text into the project).
TASKS_SOURCE = (Path(__file__).parent / "conformance_tasks.py").read_text()
#: The module name of the task-kind plugin the tasks use; the suite names it to the session.
KINDS_MODULE = "conformance_kinds"
#: A plugin of the session's own (not installed), copied into the project next to the tasks.
KINDS_SOURCE = (Path(__file__).parent / "conformance_kinds.py").read_text()



class BackendSuite(SettingsTests):
    """Subclass as ``Test...`` and set :attr:`backend`; every test then runs on that backend."""

    #: The backend's registered name (``flyte plugins`` lists them).
    backend: ClassVar[str] = ""
    #: Options passed to the backend for every run.
    backend_options: ClassVar[dict[str, Any]] = {}
    #: Names of tests this backend legitimately cannot pass; each is skipped naming the backend.
    skip: ClassVar[frozenset[str]] = frozenset()
    #: How long :meth:`assert_nothing_left` waits for threads and processes to end.
    cleanup_grace: ClassVar[float] = 3.0
    #: A timed-out run must end within this many seconds (its task would sleep 60).
    timeout_limit: ClassVar[float] = 20.0

    _threads_before: set[threading.Thread]
    _children_before: set[int]

    # --- fixtures --------------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _skip_listed(self, request: pytest.FixtureRequest) -> None:
        """Skip a test the subclass lists in :attr:`skip`."""
        name = request.function.__name__
        if name in self.skip:
            pytest.skip(f"the {self.backend!r} backend cannot do this ({type(self).__name__}.skip lists {name!r})")

    @pytest.fixture
    def project_dir(self, tmp_path: Path) -> Path:
        """The temporary project folder the task module is written into."""
        path = tmp_path / "project"
        path.mkdir()
        return path

    @pytest.fixture
    def session(self, tmp_path: Path, project_dir: Path) -> Iterator[Session]:
        """A session on :attr:`backend` with its stores in a temporary folder and no config file.

        Override to put the data store where the backend's workers can reach it; keep
        ``root_dir`` the project folder the tasks are written into.
        """
        s = Session(config=Config(), backend=self.backend, backend_options=dict(self.backend_options),
                    data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=project_dir)
        try:
            yield s
        finally:
            s.close()

    @pytest.fixture
    def tasks(self, session: Session) -> Iterator[ModuleType]:
        """:data:`TASKS_SOURCE` written into the session's root folder and loaded as user code, with
        the task-kind plugin it uses (:data:`KINDS_SOURCE`) next to it, named to the session."""
        root = Path(session.root_dir)
        path = root / f"{TASKS_MODULE}.py"
        path.write_text(TASKS_SOURCE)
        (root / f"{KINDS_MODULE}.py").write_text(KINDS_SOURCE)
        on_path = str(root.resolve()) in sys.path
        module = load_file(path, root)
        session.add_plugins(KINDS_MODULE)
        try:
            yield module
        finally:
            for name in (module.__name__, KINDS_MODULE):
                sys.modules.pop(name, None)
            if not on_path and str(root.resolve()) in sys.path:
                sys.path.remove(str(root.resolve()))

    # --- running and cleanup ---------------------------------------------------------------------

    def run(self, session: Session, task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> Run:
        """Run ``task`` and check, with :meth:`assert_nothing_left`, that the run left nothing
        behind, whether it succeeded or raised (the error keeps the run as ``.run``)."""
        self._threads_before = set(threading.enumerate())
        self._children_before = child_processes()
        try:
            run = session.run(task, *args, **kwargs)
        except Exception as e:
            failed: Run | None = getattr(e, "run", None)
            self.assert_nothing_left(failed.name if failed is not None else "(unknown)")
            raise
        self.assert_nothing_left(run.name)
        return run

    def assert_nothing_left(self, run_name: str) -> None:
        """Fail if run ``run_name`` left threads or child processes of this process running.

        Waits up to :attr:`cleanup_grace` seconds for them to end. Override (calling ``super()``)
        to also check what the backend starts elsewhere: containers, pods, volumes.
        """
        deadline = time.monotonic() + self.cleanup_grace
        while True:
            threads = sorted(t.name for t in set(threading.enumerate()) - self._threads_before if t.is_alive())
            procs = {pid: cmdline(pid) for pid in child_processes() - self._children_before}
            if not threads and not procs:
                return
            if time.monotonic() >= deadline:
                left = ([f"threads {threads}"] if threads else []) + ([f"child processes {procs}"] if procs else [])
                pytest.fail(f"run {run_name} on the {self.backend!r} backend left {' and '.join(left)} running "
                            f"{self.cleanup_grace:g}s after it ended")
            time.sleep(0.05)

    # --- configuration ---------------------------------------------------------------------------

    def test_backend_is_registered(self, session: Session) -> None:
        """The subclass names a backend an installed plugin registers."""
        assert self.backend, f"{type(self).__name__} sets no backend"
        assert self.backend in session.backends.names(), f"no backend {self.backend!r} is registered"

    def test_skip_names_suite_tests(self) -> None:
        """:attr:`skip` names only tests of this suite (a typo would silently skip nothing)."""
        known = {n for n in dir(BackendSuite) if n.startswith("test_")} - {"test_skip_names_suite_tests"}
        assert self.skip <= known, f"{type(self).__name__}.skip names unknown tests {sorted(self.skip - known)}"

    # --- the seed's examples ---------------------------------------------------------------------

    def test_greet(self, session: Session, tasks: ModuleType) -> None:
        """The seed's first example: one action, one output, ``str(run)`` is the output."""
        run = self.run(session, tasks.greet, name="World")
        assert run.outputs()[0] == "Hello, World!"
        assert str(run) == "Hello, World!"
        assert run.phase is Phase.SUCCEEDED
        assert tree(run) == {"a0": (None, "conformance.greet", Phase.SUCCEEDED)}

    def test_pipeline(self, session: Session, tasks: ModuleType) -> None:
        """The seed's pipeline: two sequential child actions, each through its phases in order."""
        run = self.run(session, tasks.pipeline, x=3)
        assert run.outputs()[0] == 16
        assert tree(run) == {
            "a0": (None, "conformance.pipeline", Phase.SUCCEEDED),
            "a0.1": ("a0", "conformance.step_one", Phase.SUCCEEDED),
            "a0.2": ("a0", "conformance.step_two", Phase.SUCCEEDED),
        }
        acts = by_action(run)
        for name, a in acts.items():
            assert a.attempts == 1, name
            assert a.started_at is not None and a.ended_at is not None and a.started_at <= a.ended_at, name
            phases = [e.phase for e in session.runs.get_events(run.name, name)]
            assert phases[0] is Phase.QUEUED and phases[-1] is Phase.SUCCEEDED, (name, phases)
            assert Phase.RUNNING in phases, (name, phases)
            assert sum(p.is_terminal for p in phases) == 1, (name, phases)
        first_end, second_start = acts["a0.1"].ended_at, acts["a0.2"].started_at
        assert first_end is not None and second_start is not None and first_end <= second_start
        assert run.record.started_at is not None and run.record.ended_at is not None

    # --- composition -----------------------------------------------------------------------------

    def test_nesting_three_deep(self, session: Session, tasks: ModuleType) -> None:
        """A sync task calling a sync task calling a sync task: each call its own action."""
        run = self.run(session, tasks.outer, x=4)
        assert run.outputs()[0] == 51
        assert tree(run) == {
            "a0": (None, "conformance.outer", Phase.SUCCEEDED),
            "a0.1": ("a0", "conformance.middle", Phase.SUCCEEDED),
            "a0.1.1": ("a0.1", "conformance.innermost", Phase.SUCCEEDED),
        }

    def test_async_fan_out(self, session: Session, tasks: ModuleType) -> None:
        """``asyncio.gather`` over async tasks: one child each, all dispatched before any ended
        (the run store's ``started_at`` is when the controller hands an attempt to the backend)."""
        run = self.run(session, tasks.fan_out, n=4)
        assert run.outputs()[0] == [0, 1, 4, 9]
        children = [a for a in run.actions() if a.action != "a0"]
        assert sorted(a.action for a in children) == ["a0.1", "a0.2", "a0.3", "a0.4"]
        assert {(a.parent, a.task, a.phase) for a in children} == {("a0", "conformance.square", Phase.SUCCEEDED)}
        starts = [a.started_at for a in children if a.started_at is not None]
        ends = [a.ended_at for a in children if a.ended_at is not None]
        assert len(starts) == len(ends) == 4
        assert max(starts) < min(ends), "the gathered children were not dispatched together"

    def test_map_over_sync_tasks(self, session: Session, tasks: ModuleType) -> None:
        """``flyte.map`` over a sync task: results in input order, one grouped child per item."""
        run = self.run(session, tasks.mapped, n=4)
        assert run.outputs()[0] == [0, 2, 4, 6]
        children = [a for a in run.actions() if a.action != "a0"]
        assert len(children) == 4
        assert {(a.parent, a.task, a.phase) for a in children} == {("a0", "conformance.slow_double", Phase.SUCCEEDED)}
        groups = {a.group for a in children}
        assert len(groups) == 1 and "slow_double" in str(groups.pop()), f"map items are not grouped: {children}"

    def test_group_is_recorded(self, session: Session, tasks: ModuleType) -> None:
        """Calls inside ``flyte.group`` carry the group; calls after it do not."""
        run = self.run(session, tasks.grouped, n=3)
        assert run.outputs()[0] == 16
        groups = {a.action: a.group for a in run.actions()}
        assert groups == {"a0": None, "a0.1": "stage-1", "a0.2": "stage-1", "a0.3": "stage-1", "a0.4": None}

    def test_group_holds_only_the_callers_calls(self, session: Session, tasks: ModuleType) -> None:
        """A task called inside ``flyte.group`` is in the group; the calls it makes itself are not
        (nor does it see the group in ``flyte.ctx()``), as in Flyte 2."""
        run = self.run(session, tasks.grouped_caller, x=1)
        assert run.outputs()[0] == "None:20"
        groups = {a.action: a.group for a in run.actions()}
        assert groups == {"a0": None, "a0.1": "tail", "a0.1.1": None, "a0.1.1.1": None}

    # --- data ------------------------------------------------------------------------------------

    def test_core_types_cross_the_boundary(self, session: Session, tasks: ModuleType) -> None:
        """list, dict, tuple, Optional, bytes, datetime and Enum arrive (and return) as themselves; a
        datetime comes back as the same instant, in UTC (as Flyte 2 returns it)."""
        when = dt.datetime(2026, 1, 31, 12, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        args = dict(numbers=[1, 2, 3], table={"a": [1.5, -2.0], "b": []}, pair=(7, "x"), maybe="here",
                    nothing=None, blob=b"\x00\xff\n", when=when, color=tasks.Color.GREEN)
        out = self.run(session, tasks.echo_types, **args).outputs()[0]
        assert isinstance(out, tuple) and len(out) == 8
        numbers, table, pair, maybe, nothing, blob, back, color = out
        assert numbers == [1, 2, 3] and table == {"a": [1.5, -2.0], "b": []}
        assert pair == (7, "x") and isinstance(pair, tuple)
        assert maybe == "here" and nothing is None
        assert blob == b"\x00\xff\n" and isinstance(blob, bytes)
        assert back == when and back.utcoffset() == dt.timedelta(0)
        assert color is tasks.Color.GREEN

    # --- failures --------------------------------------------------------------------------------

    def test_failure_names_the_code_line_and_action(self, session: Session, tasks: ModuleType) -> None:
        """A child's exception fails the run as RuntimeUserError with its type, source line and path."""
        with pytest.raises(RuntimeUserError) as ei:
            self.run(session, tasks.calls_fails, x=7)
        err = ei.value
        text = str(err)
        assert err.code == "ValueError", text
        assert "bad value 7" in text
        assert 'raise ValueError(f"bad value {x}")' in text, f"the task's own source line is missing: {text}"
        assert "a0.1" in text and err.worker == "a0.1", text
        assert "Task 'conformance.fails' (action a0.1) failed" in text, f"the failing task is not named: {text}"
        run: Run = err.run  # type: ignore[attr-defined]
        assert run.phase is Phase.FAILED
        assert {a.action: a.phase for a in run.actions()} == {"a0": Phase.FAILED, "a0.1": Phase.FAILED}
        with pytest.raises(RuntimeUserError, match=r"Task 'conformance\.fails' \(action a0\.1\)"):
            run.outputs()

    # --- task kinds ------------------------------------------------------------------------------

    def test_task_kind_of_a_session_plugin(self, session: Session, tasks: ModuleType) -> None:
        """A task whose ``plugin_config`` a plugin of the session's own handles (named to the session,
        not installed) runs through that plugin's runner, called from here and from a task body: the
        backend's workers load the session's plugins, not only the installed ones."""
        assert self.run(session, tasks.bracketed, "hey").outputs()[0] == "~HEY~"
        run = self.run(session, tasks.calls_bracketed, "ho")
        assert run.outputs()[0] == "got ~HO~"
        assert {a.action: a.task for a in run.actions()} == {
            "a0": "conformance.calls_bracketed", "a0.1": "conformance-bracketed.bracketed"}

    # --- observability ---------------------------------------------------------------------------

    def test_prints_land_in_the_run_logs(self, session: Session, tasks: ModuleType) -> None:
        """What a task prints is in ``run.logs()`` under its action and stream."""
        run = self.run(session, tasks.calls_chatty, x=5)
        assert run.outputs()[0] == 5
        lines = {(line.action, line.stream, line.line) for line in run.logs()}
        expected = {("a0", "stdout", "parent speaks"), ("a0.1", "stdout", "out 5"), ("a0.1", "stderr", "err 5")}
        assert expected <= lines, f"missing {expected - lines} in {sorted(lines)}"
        child = {(line.action, line.line) for line in run.logs("a0.1")}
        assert ("a0.1", "out 5") in child and ("a0", "parent speaks") not in child
        task_lines = [line for line in run.logs() if line.stream in ("stdout", "stderr")]  # not image builds
        assert all(line.run == run.name and line.attempt == 1 for line in task_lines)

    def test_ctx_inside_a_task(self, session: Session, tasks: ModuleType) -> None:
        """``flyte.ctx()`` reports the action, run and attempt, at the root and in a child."""
        run = self.run(session, tasks.whoami)
        assert run.outputs()[0] == {"action": "a0", "run": run.name, "attempt": "1"}
        run = self.run(session, tasks.calls_whoami)
        assert run.outputs()[0] == {"action": "a0.1", "run": run.name, "attempt": "1"}

    def test_ctx_fields(self, session: Session, tasks: ModuleType) -> None:
        """Flyte 2's TaskContext fields: attempt_number from 0, version, output_path, run_start_time."""
        run = self.run(session, tasks.ctx_fields)
        out = run.outputs()[0]
        assert out["attempt_number"] == "0" and out["version"], out
        assert out["output_path"].endswith("/a0") and run.name in out["output_path"], out
        started = dt.datetime.fromisoformat(out["run_start_time"])
        assert started.tzinfo is not None and abs(started.timestamp() - run.record.created_at) < 0.001, out
        assert out["checkpoint"].startswith(out["output_path"]), out
        assert out["in_cluster"] in ("True", "False")

    # --- Flyte 2 runtime APIs across the action boundary -------------------------------------------

    def test_custom_context_reaches_called_tasks(self, session: Session, tasks: ModuleType) -> None:
        """``flyte.custom_context`` blocks reach the tasks called inside them (and theirs), nest,
        override outer keys, and end with the block; the run's custom context is underneath."""
        from flyte_core.run.session import RunOptions

        run = session.run_with(RunOptions(custom_context={"run": "r", "stage": "zero"}), tasks.custom_contexts, (), {})
        assert run.outputs()[0] == [
            {"tag": "outer", "run": "r", "team": "core", "stage": "one"},
            {"tag": "inner", "run": "r", "team": "core", "stage": "two", "extra": "yes"},
            {"tag": "relayed", "run": "r", "team": "core", "stage": "two", "extra": "yes"},
            {"tag": "outer-again", "run": "r", "team": "core", "stage": "one"},
            {"tag": "after", "run": "r", "stage": "zero"},
        ]

    def test_child_exception_is_caught_by_its_type(self, session: Session, tasks: ModuleType) -> None:
        """A child's ValueError is caught by ``except ValueError`` in the parent, is also a
        RuntimeUserError, and carries the child's traceback."""
        run = self.run(session, tasks.catches_by_type, x=3)
        name, is_user_error, text = run.outputs()[0].split("|", 2)
        assert (name, is_user_error) == ("ValueError", "True")
        assert "bad value 3" in text and 'raise ValueError(f"bad value {x}")' in text, text
        with pytest.raises(ValueError, match="bad value 4") as ei:  # and at the top of a run
            self.run(session, tasks.fails, x=4)
        assert isinstance(ei.value, RuntimeUserError) and ei.value.code == "ValueError"

    def test_checkpoint_and_durable_survive_a_retry(self, session: Session, tasks: ModuleType) -> None:
        """Attempt 2 restores the folder attempt 1 checkpointed and sees the same durable time."""
        run = self.run(session, tasks.resumes_on_retry)
        saved, now, attempt = run.outputs()[0]
        assert attempt == "2" and saved == now
        entries = [a for a in run.actions() if a.task == "durable:time"]
        assert len(entries) == 1 and entries[0].parent == "a0", entries

    def test_checkpoint_and_durable_survive_recover(self, session: Session, tasks: ModuleType) -> None:
        """A run recovering a failed one restores its checkpoint and replays its durable time."""
        from flyte_core.run.session import RunOptions

        with pytest.raises(RuntimeUserError, match="stopping after the first checkpoint") as ei:
            self.run(session, tasks.resumes)
        failed: Run = ei.value.run  # type: ignore[attr-defined]
        (first,) = [a for a in failed.actions() if a.task == "durable:time"]
        self._threads_before, self._children_before = set(threading.enumerate()), child_processes()
        run = session.run_with(RunOptions(recover=failed.name), tasks.resumes, (), {})
        self.assert_nothing_left(run.name)
        saved, now, attempt = run.outputs()[0]
        assert saved == now and attempt == "1"
        assert first.outputs is not None and float(now) == first.outputs["o0"]["d"]
        (replayed,) = [a for a in run.actions() if a.task == "durable:time"]
        assert replayed.recovered_from == failed.name
