"""Running a container task through this machine's Docker engine: outside a run, and on the local and
local-process backends (the docker backend runs it itself, with its run's labels and log capture)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from typing import TYPE_CHECKING, Any

import docker
import docker.errors

from flyte_core.extend import current_context

if TYPE_CHECKING:
    from flyte_containertask.task import ContainerTask

#: Label on every container this module starts (value: the task name), for finding leftovers.
TASK_LABEL = "flyte.containertask"
OWNER_LABEL = "flyte.containertask.owner"
TAIL_LINES = 20


class ContainerTaskError(RuntimeError):
    """A container task could not run, or its command failed."""


def connect(task_name: str, image: str) -> docker.DockerClient:
    """A client of the local Docker engine, or a clear error naming the task."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as e:
        raise ContainerTaskError(
            f"Task '{task_name}' is a ContainerTask: it runs image '{image}' through a Docker engine, and none is "
            f"reachable here ({e}). Start Docker or set DOCKER_HOST, then run it again."
        ) from None
    return client


def ensure_image(client: docker.DockerClient, ref: str, task_name: str) -> None:
    """Pull ``ref`` unless the engine has it already."""
    try:
        client.images.get(ref)
        return
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.pull(ref)
    except docker.errors.APIError as e:
        raise ContainerTaskError(f"ContainerTask '{task_name}': image '{ref}' is not on this Docker engine and "
                                 f"cannot be pulled ({e.explanation or e}).") from None


def failure_message(task_name: str, image: str, code: int, lines: list[str]) -> str:
    """What to say when the command exits non-zero (shared with the docker backend's wording)."""
    msg = f"ContainerTask '{task_name}': the command in image '{image}' exited with code {code}."
    if lines:
        msg += "\nLast output lines:\n" + "\n".join(lines[-TAIL_LINES:])
    return msg


async def run_with_engine(task: ContainerTask, values: dict[str, Any]) -> Any:
    """Stage the inputs, run the container to its end, read the outputs; the container and the staging
    folder are removed however it ends (also when the caller is cancelled: a timeout, an abort)."""
    from flyte_containertask.task import host_workdir, image_ref, remove_workdir

    ref = image_ref(task)
    client = await asyncio.to_thread(connect, task.name, ref)
    workdir = host_workdir(task.name)
    cid: str | None = None
    try:
        call = await asyncio.to_thread(task.container_call, values, workdir)
        await asyncio.to_thread(ensure_image, client, call.image, task.name)
        labels = {TASK_LABEL: task.name, OWNER_LABEL: f"{os.getpid()}@{socket.gethostname()}"}
        ctx = current_context()
        if ctx is not None:
            labels["flyte.run"], labels["flyte.action"] = ctx.action.run_name, ctx.action.name
        env = dict(task.env.env_vars or {})
        container = await asyncio.to_thread(
            client.containers.create, call.image, command=call.command, labels=labels, environment=env,
            volumes={host: {"bind": inside, "mode": "rw"} for host, inside in call.mounts.items()})
        cid = container.id
        await asyncio.to_thread(container.start)
        status = await asyncio.to_thread(container.wait)
        out = (await asyncio.to_thread(container.logs, stdout=True, stderr=False)).decode(errors="replace")
        err = (await asyncio.to_thread(container.logs, stdout=False, stderr=True)).decode(errors="replace")
        if task.local_logs:  # as the task's own output, so runs record it like any task's
            sys.stdout.write(out)
            sys.stderr.write(err)
        code = int(status.get("StatusCode", -1))
        if code != 0:
            raise ContainerTaskError(failure_message(task.name, call.image, code, (out + err).splitlines()))
        return await asyncio.to_thread(task.container_outputs, workdir)
    finally:
        if cid is not None:
            with contextlib.suppress(docker.errors.APIError):
                await asyncio.shield(asyncio.to_thread(client.api.remove_container, cid, force=True, v=True))
        client.close()
        remove_workdir(workdir)
