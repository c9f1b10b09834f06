"""The ``local-process`` backend with real worker processes: nesting, failures, crashes, timeouts.

Task modules are real files in ``tmp_path`` (the session's code root), imported the way user code
is, so the workers find them exactly as they would in a project.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from flyte_core.extend import BaseRuntimeError, ChannelServer, RunOptions, Session, TaskEnvironment

pytestmark = pytest.mark.slow

TASKS = '''
import asyncio
import os
import signal
import subprocess
import time

import flyte

env = flyte.TaskEnvironment("proc")

@env.task
def add(x: int, y: int) -> int:
    return x + y

@env.task
def pid() -> int:
    return os.getpid()

@env.task
def pipeline() -> list[int]:
    return [os.getpid(), pid(), pid()]

@env.task
async def square(x: int) -> int:
    return x * x

@env.task
async def fan_out(n: int) -> list[int]:
    return list(await asyncio.gather(*(square(i) for i in range(n))))

@env.task
def leaf(x: int) -> int:
    return x + 1

@env.task
def middle(x: int) -> int:
    return leaf(x) * 10

@env.task
async def top(x: int) -> int:
    return await middle.aio(x) + 1

@env.task
def fails(x: int) -> int:
    raise ValueError(f"bad input {x}")

@env.task
def calls_failing() -> int:
    return fails(7)

@env.task
def exits() -> int:
    print("about to exit", flush=True)
    os._exit(3)

@env.task
def segfaults() -> int:
    os.kill(os.getpid(), signal.SIGSEGV)
    return 0

@env.task(timeout=5)  # room for a worker to start on a loaded machine before the body writes its pid
def sleeps(pid_file: str) -> int:
    return sleeps_long_body(pid_file)

def sleeps_long_body(pid_file: str) -> int:
    helper = subprocess.Popen(["sleep", "30"])  # must die with the worker, too
    with open(pid_file + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {helper.pid}")
    os.replace(pid_file + ".tmp", pid_file)
    time.sleep(30)
    return 0

@env.task
def sleeps_long(pid_file: str) -> int:
    return sleeps_long_body(pid_file)

def fail_first_time(counter: str) -> int:
    n = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
    with open(counter, "w") as f:
        f.write(str(n))
    if n == 1:
        raise RuntimeError("first attempt fails")
    return n

@env.task(retries=1)
def flaky(counter: str) -> int:
    return fail_first_time(counter)

_attempt_pids: list[int] = []  # module state: it survives a retry only when the retry shares the process

@env.task(retries=2)
def remembers() -> list[int]:
    _attempt_pids.append(os.getpid())
    print(f"attempt {len(_attempt_pids)}")
    if len(_attempt_pids) < 3:
        raise RuntimeError(f"attempt {len(_attempt_pids)} fails")
    return _attempt_pids

@env.task(retries=1)
def crashes_once(counter: str) -> list[int]:
    n = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
    with open(counter, "w") as f:
        f.write(str(n))
    _attempt_pids.append(n)
    if n == 1:
        os._exit(1)
    return _attempt_pids

@env.task(retries=3, timeout=flyte.Timeout(max_runtime=60, deadline=0.001))
def out_of_time(pid_file: str) -> int:
    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    raise RuntimeError("fails, and its deadline leaves no time for a retry")

@env.task
def fails_once(counter: str) -> int:
    return fail_first_time(counter)

@env.task
def calls_with_override(counter: str) -> int:
    return fails_once.override(retries=1)(counter)

@env.task
def chatty() -> str:
    print("hello from the worker")
    return "done"

@flyte.trace
def helper(x: int) -> int:
    return x * 3

@env.task
def traced(x: int) -> int:
    return helper(x) + 1

@env.task
def mapped(n: int) -> list[int]:
    return list(flyte.map(leaf, range(n)))

@env.task
async def dies_with_child(pid_file: str) -> int:
    child = asyncio.ensure_future(sleeps_long.aio(pid_file))
    while not os.path.exists(pid_file):
        await asyncio.sleep(0.05)
    os._exit(1)
    return await child
'''


def _stat(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state, ppid, ...), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children() -> set[int]:
    """Live child processes of this (test) process."""
    return {int(e) for e in os.listdir("/proc")
            if e.isdigit() and (f := _stat(e)) is not None and int(f[1]) == os.getpid()}


def _gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie waiting for init to reap it counts as gone)."""
    fields = _stat(pid)
    return fields is None or fields[0] == "Z"


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def tasks(tmp_path: Path) -> Iterator[ModuleType]:
    name = f"proc_tasks_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.py"
    path.write_text(TASKS)
    yield _load(path, name)
    sys.modules.pop(name, None)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    before = _children()  # other tests' processes (e.g. multiprocessing's tracker) are not ours
    s = Session(backend="local-process", data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                root_dir=tmp_path)
    try:
        yield s
    finally:
        s.close()
        left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in _children() - before}
        assert not left, f"processes were left running: {left}"


def test_simple_task(session: Session, tasks: ModuleType) -> None:
    run = session.run(tasks.add, 2, 3)
    assert run.outputs()[0] == 5 and str(run) == "5"


def test_pipeline_runs_each_action_in_its_own_process(session: Session, tasks: ModuleType) -> None:
    run = session.run(tasks.pipeline)
    pids = run.outputs()[0]
    assert len(set(pids)) == 3 and os.getpid() not in pids
    assert sorted(a.action for a in run.actions()) == ["a0", "a0.1", "a0.2"]


def test_async_fan_out(session: Session, tasks: ModuleType) -> None:
    run = session.run(tasks.fan_out, 5)
    assert run.outputs()[0] == [0, 1, 4, 9, 16]
    assert sorted(a.action for a in run.actions()) == ["a0", "a0.1", "a0.2", "a0.3", "a0.4", "a0.5"]
    one_worker = RunOptions(backend_options={"max_workers": 1})  # waiting parents lend their slot
    assert session.run_with(one_worker, tasks.fan_out, (3,), {}).outputs()[0] == [0, 1, 4]


def test_three_deep_nesting(session: Session, tasks: ModuleType) -> None:
    run = session.run(tasks.top, 4)
    assert run.outputs()[0] == 51
    assert sorted(a.action for a in run.actions()) == ["a0", "a0.1", "a0.1.1"]
    one_worker = RunOptions(backend_options={"max_workers": 1})
    assert session.run_with(one_worker, tasks.top, (1,), {}).outputs()[0] == 21


def test_task_error_carries_the_task_traceback(session: Session, tasks: ModuleType) -> None:
    with pytest.raises(BaseRuntimeError) as exc:
        session.run(tasks.fails, 1)
    assert exc.value.code == "ValueError"
    assert 'raise ValueError(f"bad input {x}")' in str(exc.value) and "bad input 1" in str(exc.value)
    with pytest.raises(BaseRuntimeError) as exc:  # a child's error reaches its parent unchanged
        session.run(tasks.calls_failing)
    assert exc.value.code == "ValueError" and "bad input 7" in str(exc.value) and "a0.1" in str(exc.value)


def test_os_exit_is_a_clear_error(session: Session, tasks: ModuleType) -> None:
    start = time.monotonic()
    with pytest.raises(BaseRuntimeError) as exc:
        session.run(tasks.exits)
    assert time.monotonic() - start < 10
    assert exc.value.code == "TaskInterruptedError"
    assert "exit code 3" in str(exc.value) and "a0" in str(exc.value)
    assert "about to exit" in str(exc.value)  # the worker's last lines are quoted


def test_segfault_is_named(session: Session, tasks: ModuleType) -> None:
    with pytest.raises(BaseRuntimeError) as exc:
        session.run(tasks.segfaults)
    assert exc.value.code == "TaskInterruptedError"
    assert "SIGSEGV" in str(exc.value)


def test_timeout_kills_the_worker(session: Session, tasks: ModuleType, tmp_path: Path) -> None:
    pid_file = tmp_path / "sleeper.pid"
    start = time.monotonic()
    with pytest.raises(BaseRuntimeError) as exc:
        session.run(tasks.sleeps, str(pid_file))
    assert exc.value.code == "TaskTimeoutError"
    assert time.monotonic() - start < 25  # killed, not left to finish its 30 s sleep
    worker, helper = map(int, pid_file.read_text().split())
    assert _gone(worker) and _gone(helper)


def test_retry_runs_a_second_attempt(session: Session, tasks: ModuleType, tmp_path: Path) -> None:
    run = session.run(tasks.flaky, str(tmp_path / "counter"))
    assert run.outputs()[0] == 2
    assert run.actions()[0].attempts == 2


def test_retries_after_a_raised_error_share_the_worker_process(session: Session, tasks: ModuleType) -> None:
    # As under Flyte 2's local controller: module-level state carries over between attempts.
    run = session.run(tasks.remembers)
    pids = run.outputs()[0]
    assert len(pids) == 3 and len(set(pids)) == 1
    assert run.actions()[0].attempts == 3
    logs = [(line.attempt, line.line) for line in run.logs() if line.line.startswith("attempt ")]
    assert logs == [(1, "attempt 1"), (2, "attempt 2"), (3, "attempt 3")]  # each line under its attempt


def test_a_retry_after_a_crash_gets_a_fresh_worker(session: Session, tasks: ModuleType, tmp_path: Path) -> None:
    run = session.run(tasks.crashes_once, str(tmp_path / "counter"))
    assert run.outputs()[0] == [2]  # the crashed process's state is gone
    assert run.actions()[0].attempts == 2


def test_a_worker_kept_for_a_retry_that_never_comes_is_stopped(session: Session, tasks: ModuleType,
                                                               tmp_path: Path) -> None:
    pid_file = tmp_path / "worker.pid"
    with pytest.raises(BaseRuntimeError) as exc:
        session.run(tasks.out_of_time, str(pid_file))
    assert exc.value.code == "DeadlineExceededError"
    assert _gone(int(pid_file.read_text()))


def test_override_of_a_child_reaches_the_controller(session: Session, tasks: ModuleType, tmp_path: Path) -> None:
    run = session.run(tasks.calls_with_override, str(tmp_path / "counter"))
    assert run.outputs()[0] == 2
    assert {a.action: a.attempts for a in run.actions()}["a0.1"] == 2


def test_print_lands_in_run_logs(session: Session, tasks: ModuleType) -> None:
    lines = [(line.action, line.stream, line.line) for line in session.run(tasks.chatty).logs()]
    assert ("a0", "stdout", "hello from the worker") in lines


def test_trace_and_map_inside_a_worker(session: Session, tasks: ModuleType) -> None:
    run = session.run(tasks.traced, 2)
    assert run.outputs()[0] == 7
    assert [(a.task, a.phase.value) for a in run.actions() if a.action != "a0"] == [("trace:helper", "succeeded")]
    assert session.run(tasks.mapped, 3).outputs()[0] == [1, 2, 3]


def test_parent_crash_stops_its_children(session: Session, tasks: ModuleType, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    start = time.monotonic()
    with pytest.raises(BaseRuntimeError) as exc:
        session.run(tasks.dies_with_child, str(pid_file))
    assert exc.value.code == "TaskInterruptedError"
    assert time.monotonic() - start < 10
    worker, helper = map(int, pid_file.read_text().split())
    assert _gone(worker) and _gone(helper)
    # Stopped because its parent's worker ended (aborted), not swept up when the run closed.
    phases = {a.action: a.phase.value for a in exc.value.run.actions()}  # type: ignore[attr-defined]
    assert phases["a0.1"] == "aborted"


def test_task_defined_in_a_function_is_refused_clearly(session: Session, tasks: ModuleType) -> None:
    env: TaskEnvironment = tasks.env

    @env.task
    def local_task() -> int:
        return 1

    with pytest.raises(BaseRuntimeError) as exc:
        session.run(local_task)
    assert exc.value.code == "ModuleLoadError"
    assert "defined inside a function" in str(exc.value)


def test_module_loaded_under_another_name_is_found_by_file(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "odd-file.py"
    path.parent.mkdir()
    path.write_text(TASKS)
    mod = _load(path, f"odd_{uuid.uuid4().hex[:8]}")
    try:
        assert session.run(mod.middle, 1).outputs()[0] == 20
    finally:
        sys.modules.pop(mod.__name__, None)


def test_main_script_tasks_and_ctrl_c(tmp_path: Path) -> None:
    """Tasks of a ``__main__`` script run in workers that do not re-run its main block, and
    Ctrl-C in the script (cancelling the run) kills the running worker and what it started."""
    script, pid_file, mains = tmp_path / "script.py", tmp_path / "sleeper.pid", tmp_path / "mains"
    script.write_text(TASKS + textwrap.dedent(f'''
        if __name__ == "__main__":
            from flyte_core.run.session import RunOptions, Session
            s = Session(backend="local-process", data_url={str(tmp_path / "data")!r},
                        run_store={str(tmp_path / "runs.db")!r}, root_dir={str(tmp_path)!r})
            with open({str(mains)!r}, "a") as f:
                f.write("main\\n")
            print("RESULT", s.run(top, 1).outputs()[0], flush=True)
            s.run(sleeps_long, {str(pid_file)!r})
        '''))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "RESULT 21" in out, err
    assert "KeyboardInterrupt" in err
    assert mains.read_text() == "main\n"
    worker, helper = map(int, pid_file.read_text().split())
    assert _gone(worker) and _gone(helper)


def test_channel_refuses_strangers() -> None:
    async def scenario() -> list[str]:
        server = ChannelServer(None, is_running=lambda a, n: (a, n) == ("a0", 1), code_root=".")
        await server.start()
        try:
            replies = []
            for token, attempt in [("0" * 64, 1), (server.token_for("a0", 2), 2), (server.token_for("a0", 1), 1)]:
                reader, writer = await asyncio.open_unix_connection(server.path)
                hello = {"id": 0, "op": "hello", "token": token, "action": "a0", "attempt": attempt}
                writer.write((json.dumps(hello) + "\n").encode())
                reply = json.loads(await reader.readline())
                if reply.get("ok"):  # authenticated: now try to start a child of someone else
                    call = {"id": 1, "op": "call", "parent": "a0.9", "task": {"module": "m", "name": "t"},
                            "inputs": {}, "group": None}
                    writer.write((json.dumps(call) + "\n").encode())
                    reply = json.loads(await reader.readline())
                replies.append(reply["error"]["message"])
                writer.close()
            assert oct(os.stat(os.path.dirname(server.path)).st_mode & 0o777) == "0o700"
            return replies
        finally:
            await server.close()

    bad_token, not_running, foreign_parent = asyncio.run(scenario())
    assert "invalid token" in bad_token
    assert "not running" in not_running
    assert "only start children of itself" in foreign_parent
