"""The docker backend under load and faults, on a real engine: nested fan-outs complete, aborts
(Ctrl-C, ``flyte runs abort``, a failing parent) leave nothing running, a driver killed with -9
leaves nothing running and ``--recover`` redoes only unfinished work, an engine restarted mid-run
(a private engine of the test's own: never the shared one) fails the run clearly and loses nothing.

Each test counts only containers labelled with its own run, so other work on the same engine
cannot change its result. Latencies are measured by ``nox -s bench`` (bench/containers.py), never
asserted here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from conftest import BASE_IMAGE, PrivateEngine, containers_of, docker_session
from flyte_backend_docker.labels import RUN_LABEL

from flyte_core.extend import BaseRuntimeError, Session, load_file

pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("docker_client")]

TASKS = '''
import time
import flyte

env = flyte.TaskEnvironment(name="load")


@env.task
def leaf(i: int) -> int:
    return i * 2


@env.task
def middle(i: int) -> int:
    return leaf(i) + 1


@env.task
def nested(n: int) -> int:
    return sum(flyte.map(middle, range(n)))


@env.task
def sleeper(i: int) -> int:
    time.sleep(600)
    return i


@env.task
def fan_sleep(n: int) -> list[int]:
    return list(flyte.map(sleeper, range(n)))


@env.task
def boom(s: int) -> int:
    time.sleep(s)
    raise ValueError("boom")


@env.task
async def failing_parent(n: int) -> int:
    import asyncio
    results = await asyncio.gather(boom.aio(2), *[sleeper.aio(i) for i in range(n)])
    return sum(results)
'''


def main_pids(client: docker.DockerClient, run: str) -> list[int]:
    """The host pids of the main processes of ``run``'s running containers."""
    states = (client.api.inspect_container(c["Id"])["State"] for c in containers_of(client, run, running=True))
    return [int(s["Pid"]) for s in states if int(s["Pid"]) > 0]


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie has ended: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_until(check: Callable[[], bool], what: str, timeout: float = 600) -> None:
    """Poll ``check`` until it holds (a guard against a hung test, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


#: The task module the conftest's ``project``, ``session`` and ``tasks`` fixtures provide.
TASK_MODULE = ("load_tasks", TASKS)


def cli_env(project: Path, **env: str) -> dict[str, str]:
    return {**os.environ, "FLYTE_HOME": str(project / "home"), "FLYTE_DOCKER_BASE_IMAGE": BASE_IMAGE, **env}


def start_cli_run(project: Path, name: str, *args: str, file: str = "load_tasks.py",
                  **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--backend", "docker",
                             "--name", name, file, *args], cwd=project, env=cli_env(project, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def cli(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flyte_core.cli", *args], cwd=project, env=cli_env(project, **env),
                          capture_output=True, text=True, timeout=600)


def interrupt_when(proc: subprocess.Popen[str], client: docker.DockerClient, run: str, ready: Callable[[], bool],
                   what: str) -> tuple[list[int], str]:
    """Once ``ready()`` holds, Ctrl-C the ``flyte run`` of ``run`` that ``proc`` is; the host pids its
    containers' main processes had just before, and what it printed on stderr."""
    try:
        wait_until(ready, what)
        pids = main_pids(client, run)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)  # a guard against a hang, not a timing
    finally:
        proc.kill()
    return pids, err


def assert_aborted_and_gone(project: Path, client: docker.DockerClient, run: str, pids: list[int],
                            err: str) -> dict[str, Any]:
    """Check that an interrupted ``flyte run`` of ``run`` said so without a traceback, left no
    container and none of the processes ``pids`` running, and is recorded as aborted; its
    ``runs show --json``."""
    assert "Traceback" not in err and "CancelledError" not in err, err
    assert containers_of(client, run) == []
    assert [p for p in pids if alive(p)] == []
    shown: dict[str, Any] = json.loads(cli(project, "runs", "show", run, "--json").stdout)
    assert shown["run"]["phase"] == "aborted"
    return shown


def test_nested_fan_out_of_50_completes(session: Session, tasks: Any, docker_client: docker.DockerClient) -> None:
    run = session.run(tasks.nested, n=50)
    assert run.outputs()[0] == sum(i * 2 + 1 for i in range(50))
    actions = session.runs.get_actions(run.name)
    assert len(actions) == 101 and {a.phase.value for a in actions} == {"succeeded"}
    assert containers_of(docker_client, run.name) == []


def test_concurrency_is_bounded_only_by_the_setting(project: Path, tasks: Any,
                                                     docker_client: docker.DockerClient) -> None:
    # One slot: the parent lends it to its children while it waits, so nesting cannot deadlock.
    s = docker_session(project, max_concurrent_actions=1)
    try:
        run = s.run(tasks.nested, n=3)
        assert run.outputs()[0] == 1 + 3 + 5
    finally:
        s.close()


@pytest.mark.parametrize("host_kill", [True, False], ids=["host-kill", "engine-kill"])
def test_ctrl_c_at_fan_out_100_leaves_nothing(project: Path, docker_client: docker.DockerClient,
                                              host_kill: bool) -> None:
    """SIGINT to ``flyte run`` while 100 children run or wait for a place (by default fewer than 100
    run at once on a small machine): every container of the run is killed (its processes too, not
    only the engine's record of them), none of the queued ones ever starts, and nothing is left;
    whether the driver kills them itself (``host_kill``, where it can) or leaves it to the engine."""
    if not host_kill:
        (project / ".flyte").mkdir()
        (project / ".flyte" / "config.yaml").write_text("backends:\n  docker:\n    host_kill: false\n")
    ctrlc = f"ctrlc100-{uuid.uuid4().hex[:8]}"  # this run only: other suites may run on the engine
    proc = start_cli_run(project, ctrlc, "fan_sleep", "--n", "100")
    pids, err = interrupt_when(proc, docker_client, ctrlc, lambda: len(containers_of(docker_client, ctrlc,
                                                                                    running=True)) >= 20,
                               "the fan-out to start")
    assert proc.returncode == 130
    shown = assert_aborted_and_gone(project, docker_client, ctrlc, pids, err)
    assert {a["phase"] for a in shown["actions"]} <= {"aborted", "queued"}


def test_runs_abort_at_fan_out_100_leaves_nothing(project: Path, docker_client: docker.DockerClient) -> None:
    abort = f"abort100-{uuid.uuid4().hex[:8]}"  # this run only: other suites may run on the engine
    proc = start_cli_run(project, abort, "fan_sleep", "--n", "100")
    try:
        wait_until(lambda: len(containers_of(docker_client, abort, running=True)) >= 20,
                   "the fan-out to start")
        pids = main_pids(docker_client, abort)
        r = cli(project, "runs", "abort", abort)
        assert r.returncode == 0, r.stderr
        _, err = proc.communicate(timeout=300)  # a guard against a hang, not a timing
    finally:
        proc.kill()
    assert proc.returncode != 0
    shown = assert_aborted_and_gone(project, docker_client, abort, pids, err)
    assert {a["phase"] for a in shown["actions"]} <= {"aborted", "queued"}


def test_a_failing_parent_stops_its_subtree(session: Session, tasks: Any, docker_client: docker.DockerClient) -> None:
    with pytest.raises(BaseRuntimeError, match="boom") as ei:
        session.run(tasks.failing_parent, n=10)
    name = ei.value.run.name  # type: ignore[attr-defined]
    assert containers_of(docker_client, name) == []
    phases = {a.action: a.phase.value for a in session.runs.get_actions(name)}
    assert phases["a0"] == "failed"
    assert {p for a, p in phases.items() if a != "a0"} <= {"failed", "aborted"}


def test_abort_of_an_unknown_run_names_the_store(project: Path) -> None:
    r = cli(project, "runs", "abort", "no-such-run")
    assert r.returncode != 0
    assert str(project / "home") in r.stderr and "-c" in r.stderr, r.stderr


KILL_TASKS = '''
import os
import time
import flyte

env = flyte.TaskEnvironment(name="killed")


@env.task
def part(i: int, marker: str) -> int:
    # Even parts end at once; odd ones wait for the marker file (in the first run's folder, which its
    # containers and those of the run recovering it see at the same path), so a driver killed
    # meanwhile leaves them unfinished.
    while i % 2 and not os.path.exists(marker):
        time.sleep(0.2)
    return i


@env.task
def parts(n: int, marker: str) -> int:
    return sum(flyte.map(part, range(n), [marker] * n))
'''


def test_driver_killed_leaves_nothing_and_recover_redoes_only_unfinished(
        project: Path, docker_client: docker.DockerClient) -> None:
    (project / "kill_tasks.py").write_text(KILL_TASKS)
    # In the run's folder of the default data store of FLYTE_HOME: mounted (read-only) in its containers
    # and in those of the run that recovers it; nothing else of the store is.
    killed, recovered9 = (f"{n}-{uuid.uuid4().hex[:8]}" for n in ("killed9", "recovered9"))  # this suite's only
    marker = project / "home" / "data" / "runs" / killed / "go"
    cmd = [sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "--backend", "docker"]
    proc = subprocess.Popen([*cmd, "--name", killed, "kill_tasks.py", "parts", "--n", "10", "--marker",
                             str(marker)], cwd=project, env=cli_env(project), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # Every part started and the even ones ended: 1 parent and 5 waiting parts run.
        def settled() -> bool:
            shown = json.loads(cli(project, "runs", "show", killed, "--json").stdout or "{}")
            done = [a for a in shown.get("actions", []) if a["phase"] == "succeeded"]
            return len(done) == 5 and len(containers_of(docker_client, killed, running=True)) == 6
        wait_until(settled, "the even parts to finish")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        # The containers notice their controller is gone and stop themselves: nobody removes them.
        wait_until(lambda: not containers_of(docker_client, killed, running=True), "the containers to stop",
                   timeout=120)
    finally:
        proc.kill()
    # The next command of the store settles the run and removes what is left.
    shown = json.loads(cli(project, "runs", "show", killed, "--json").stdout)
    assert shown["run"]["phase"] == "interrupted"
    assert f"Cleaned up: removed 6 container(s) of run {killed}" in shown["run"]["error"]["message"]
    assert containers_of(docker_client, killed) == []
    marker.write_text("go")
    r = subprocess.run([*cmd, "--name", recovered9, "--recover", killed, "kill_tasks.py", "parts", "--n", "10",
                        "--marker", str(marker)], cwd=project, env=cli_env(project), capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(sum(range(10)))
    shown = json.loads(cli(project, "runs", "show", recovered9, "--json").stdout)
    actions = {a["action"]: a for a in shown["actions"]}
    recovered = sorted(int(a.rsplit(".", 1)[1]) - 1 for a, rec in actions.items() if rec.get("recovered_from"))
    assert recovered == [0, 2, 4, 6, 8]  # only the unfinished (odd) parts and the parent ran again


def test_exit_watch_resumes_after_its_stream_breaks(docker_client: docker.DockerClient) -> None:
    """The run's events stream breaking (as when the engine restarts) loses no exit: the watch
    reconnects and replays from where it stopped."""
    import asyncio

    from flyte_backend_docker.engine import ExitWatch

    label = f"{RUN_LABEL}=watch-{os.getpid()}"
    loop = asyncio.new_event_loop()
    watch = ExitWatch(docker.from_env, [label], loop)
    watch.start()
    cid = docker_client.api.create_container(BASE_IMAGE, command=["sleep", "600"],
                                             labels={RUN_LABEL: label.split("=", 1)[1]})["Id"]
    try:
        exited = watch.exited(cid)
        docker_client.api.start(cid)
        watch._stream.close()  # the connection drops
        docker_client.api.kill(cid)
        assert loop.run_until_complete(asyncio.wait_for(exited, 120)) == 137
    finally:
        watch.close()
        loop.close()
        docker_client.api.remove_container(cid, force=True)


FAULT_TASKS = '''
import flyte

gpu = flyte.TaskEnvironment(name="gpu", resources=flyte.Resources(gpu=1))
missing = flyte.TaskEnvironment(name="missing", image="flyte-ci/does-not-exist:nope")


@gpu.task
def on_gpu() -> int:
    return 1


@missing.task
def nowhere() -> int:
    return 1
'''


def test_user_faults_name_the_task_and_what_to_do(project: Path, session: Session,
                                                  docker_client: docker.DockerClient) -> None:
    from flyte_core.extend import FlyteUsageError

    if any("nvidia" in r for r in docker_client.info().get("Runtimes", {})):
        pytest.skip("this engine has a GPU runtime")
    (project / "fault_tasks.py").write_text(FAULT_TASKS)
    sys.modules.pop("fault_tasks", None)
    faults = load_file(project / "fault_tasks.py", project)
    with pytest.raises(BaseRuntimeError) as ei:
        session.run(faults.on_gpu)
    assert ei.value.code == "GPUUnavailableError"
    assert "Task 'gpu.on_gpu' requests GPUs" in str(ei.value) and "NVIDIA Container Toolkit" in str(ei.value)
    assert containers_of(docker_client, ei.value.run.name) == []  # type: ignore[attr-defined]
    with pytest.raises(FlyteUsageError, match=r"Task 'missing\.nowhere' \(environment 'missing'\) cannot run: "
                                              r"Image flyte-ci/does-not-exist:nope .* cannot be pulled"):
        session.run(faults.nowhere)


RESTART_TASKS = """
import time
import flyte

# The default task image, copied into the test's private engine (which builds nothing).
env = flyte.TaskEnvironment(name="restarted", image="{image}")


@env.task
def part(i: int) -> int:
    # Even parts end at once; odd ones are still running when the engine restarts.
    if i % 2:
        time.sleep(600)
    return i * 10


@env.task
def parts(n: int) -> int:
    return sum(flyte.map(part, range(n)))
"""


RESTART_REUSED_TASKS = RESTART_TASKS + """

warm = flyte.TaskEnvironment(name="restarted_warm", image="{image}", reusable=flyte.ReusePolicy(replicas=1))


@warm.task
def warm_sleeper() -> int:
    print("warm and sleeping", flush=True)
    time.sleep(600)
    return 1
"""

RESTART_RAW_TASKS = RESTART_TASKS + """

from flyte.extras import ContainerTask

# A container task running the image as it is.
raw_sleeper = ContainerTask(name="raw_sleeper", image="{image}", outputs={{"o": int}},
                            command=["sh", "-c", "sleep 600; echo 1 > /var/outputs/o"])
"""


def test_engine_restart_fails_the_run_and_loses_nothing(project: Path, private_engine: PrivateEngine,
                                                        default_image: str) -> None:
    """The engine (a private one: never the shared engine) is killed and started again mid-run, once
    the even parts of 6 finished and the odd ones run (the parent and 3 containers): the run ends
    failed with an error saying so and what to do, what had finished keeps its outputs, and nothing
    of the run is left on the engine."""
    client = private_engine.client
    assert client is not None

    def settled() -> bool:
        shown = json.loads(cli(project, "runs", "show", "restarted", "--json").stdout or "{}")
        done = [a for a in shown.get("actions", []) if a["phase"] == "succeeded"]
        return len(done) == 3 and len(containers_of(client, "restarted", running=True)) == 4

    shown = restart_under(project, private_engine, RESTART_TASKS.format(image=default_image), "parts", settled,
                          "--n", "6")
    finished = [a["action"] for a in shown["actions"] if a["phase"] == "succeeded"]
    assert len(finished) == 3
    outputs = sorted(v for a in finished
                     for v in json.loads(cli(project, "runs", "outputs", "restarted", a, "--json").stdout).values())
    assert outputs == [0, 20, 40]


def restart_under(project: Path, engine: PrivateEngine, module: str, task: str, started: Callable[[], bool],
                  *args: str) -> dict[str, Any]:
    """Run ``task`` of ``module`` (with CLI ``args``) on the private ``engine``; once ``started()``
    holds, kill the engine and start it again. Check the run failed saying so and what to do, and
    that nothing of it is left on the engine; return the run as ``flyte runs show`` has it."""
    (project / "restart_tasks.py").write_text(module)
    proc = start_cli_run(project, "restarted", task, *args, file="restart_tasks.py", DOCKER_HOST=engine.host)
    try:
        wait_until(started, f"{task} to run")
        engine.restart()
        _, err = proc.communicate(timeout=600)  # a guard against a hang, not a timing assertion
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    assert "Traceback" not in err, err
    shown: dict[str, Any] = json.loads(cli(project, "runs", "show", "restarted", "--json").stdout)
    assert shown["run"]["phase"] == "failed"
    message = str(shown["run"]["error"]["message"])
    assert "Docker engine" in message and "restarted" in message, message
    assert "flyte run --recover restarted" in message, message
    assert containers_of(engine.client, "restarted") == []
    return shown


def test_engine_restart_fails_an_attempt_on_a_reusable_container_the_same_way(
        project: Path, private_engine: PrivateEngine, default_image: str) -> None:
    """As above, for an attempt running on a warm replica of a reusable environment."""
    def started() -> bool:
        return "warm and sleeping" in cli(project, "runs", "logs", "restarted").stdout

    message = restart_under(project, private_engine, RESTART_REUSED_TASKS.format(image=default_image),
                            "warm_sleeper", started)["run"]["error"]["message"]
    assert "warm_sleeper" in message, message


def test_engine_restart_fails_a_container_task_the_same_way(
        project: Path, private_engine: PrivateEngine, default_image: str) -> None:
    """As above, for a raw container task (``flyte.extras.ContainerTask``) running its image as it is."""
    client = private_engine.client
    assert client is not None
    shown = restart_under(project, private_engine, RESTART_RAW_TASKS.format(image=default_image), "raw_sleeper",
                          lambda: len(containers_of(client, "restarted", running=True)) == 1)
    message = shown["run"]["error"]["message"]
    assert "raw_sleeper" in message, message
