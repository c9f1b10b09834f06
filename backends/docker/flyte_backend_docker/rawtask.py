"""The docker backend's way to run a task that brings its own image (a ``RawContainerTask``, e.g.
``flyte.extras.ContainerTask``): a container of that image as it is, its inputs staged as files in a
host folder mounted into it, its outputs read back from there once it exits. Its exit is followed
through the run's event watch (:class:`~flyte_backend_docker.engine.ExitWatch`) as a task
container's is, so an abort, a timeout or an engine restart ends it the same way."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import docker
import docker.errors
import requests.exceptions

from flyte_backend_docker.engine import EngineGone
from flyte_backend_docker.labels import labels_for
from flyte_backend_docker.outcomes import engine_gone, oom_killed, timed_out
from flyte_backend_docker.resources import container_limits, describe_memory
from flyte_backend_docker.sandbox import give
from flyte_core.extend import ActionOutcome, ActionSpec, ErrorInfo, FlyteUsageError, error_info

if TYPE_CHECKING:
    from flyte_backend_docker.backend import DockerBackend

TAIL_LINES = 20


async def execute_raw(backend: DockerBackend, spec: ActionSpec, task: Any) -> ActionOutcome:
    """Run one attempt of ``task`` (a :class:`~flyte_core.task.rawcontainer.RawContainerTask`) for ``backend``:
    stage its inputs, run its image to the end (at most ``spec.timeout``), encode its outputs; the
    container and the folder are removed however it ends."""
    assert backend._run is not None and backend._client is not None and backend._dir is not None
    assert backend._secrets is not None and backend._watch is not None
    run, watch = backend._run, backend._watch
    # The folder of its inputs and outputs belongs to the container's user (it writes the outputs).
    writer = backend._sandbox.writer(task.env.name)
    workdir = give(tempfile.mkdtemp(dir=backend._dir, prefix=f"{spec.action}-{spec.attempt}-"), writer)
    cid: str | None = None
    running = aborted = False
    try:
        try:
            values = run.engine.decode_inputs(task.name, task.interface, spec.inputs, run.conversion)
            call = await asyncio.to_thread(task.container_call, values, workdir)
            await asyncio.to_thread(ensure_image, backend._client, call.image)
        except Exception as e:
            return ActionOutcome(error=error_info(e, spec.action), final=True)
        env, secret_volumes = await asyncio.to_thread(backend._secrets.prepare, spec, writer)
        volumes = {**secret_volumes, **{h: {"bind": c, "mode": "rw"} for h, c in call.mounts.items()}}
        backend._live[spec.action] = spec.attempt
        labels = labels_for(spec, os.getpid(), socket.gethostname(), run.store)
        cid = await backend._api(
            backend._create, call.image, call.command, labels,
            volumes, {**spec.env_vars, **env}, container_limits(task.env.resources), None, task.env.name,
            task_image=False)
        exit_code = watch.exited(cid)  # asked before it starts: its exit cannot be missed
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        pump = threading.Thread(target=backend._pump_lines, args=(cid, spec, tail), daemon=True,
                                name=f"flyte-docker-logs-{spec.action}")
        started = time.monotonic()
        try:
            await backend._api(backend._start, cid)
            running = True
            pump.start()
            code = await asyncio.wait_for(asyncio.shield(exit_code), spec.timeout)
        except TimeoutError:
            return timed_out(spec)
        except asyncio.CancelledError:
            running = aborted = True  # a cancelled start still completed (EngineCalls)
            raise
        running = False
        await asyncio.to_thread(pump.join, 5)
        if not tail:  # a command that ended before the attach began: read what it printed from the engine
            await asyncio.to_thread(_replay_logs, backend, cid, spec, tail)
        if code != 0 and watch.broke_since(started):  # stopped by the engine's restart, not by its command
            return engine_gone(spec, EngineGone("the Docker engine restarted while it ran and stopped it"))
        if code != 0 and await watch.oom_killed(cid, code):
            return oom_killed(spec, describe_memory(task.env.resources), list(tail))
        if code != 0:
            msg = (f"ContainerTask '{task.name}': the command in image '{call.image}' exited with code {code}."
                   + ("\nLast output lines:\n" + "\n".join(tail) if tail else ""))
            return ActionOutcome(error=ErrorInfo("ContainerTaskError", "user", msg, action=spec.action))
        try:
            result = await asyncio.to_thread(task.container_outputs, workdir)
            outputs = run.engine.encode_output(task.name, task.interface, result, run.conversion)
        except Exception as e:
            return ActionOutcome(error=error_info(e, spec.action), final=True)
        return ActionOutcome(outputs=outputs)
    except EngineGone as e:
        return engine_gone(spec, e)
    except requests.exceptions.ConnectionError as e:  # the engine went away between two calls
        return engine_gone(spec, EngineGone(f"the Docker engine cannot be reached: it restarted or stopped ({e})"))
    finally:
        backend._live.pop(spec.action, None)
        if cid is not None:
            if running and aborted:
                backend._killer.kill(cid)  # at once, from this host when it can (hostkill.py)
            watch.forget(cid)
            backend._killer.forget(cid)
            with contextlib.suppress(requests.exceptions.ConnectionError):  # the engine is away: the run's end
                await asyncio.shield(backend._remove(cid, keep=False))
        backend._secrets.release(spec.action)
        shutil.rmtree(workdir, ignore_errors=True)


def ensure_image(client: docker.DockerClient, ref: str) -> None:
    """Pull ``ref`` unless the engine has it (a raw container task's image is run as it is, never built)."""
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        try:
            client.images.pull(ref)
        except docker.errors.APIError as e:
            raise FlyteUsageError(f"Image '{ref}' is not on this Docker engine and cannot be pulled "
                                  f"({e.explanation or e}).") from None


def _replay_logs(backend: DockerBackend, cid: str, spec: ActionSpec, tail: deque[str]) -> None:
    assert backend._client is not None
    for stream in ("stdout", "stderr"):
        raw = backend._client.api.logs(cid, stdout=stream == "stdout", stderr=stream == "stderr")
        for line in raw.splitlines():
            backend._emit(spec, stream, line, tail)
