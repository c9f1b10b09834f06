"""The outcomes of attempts that ended without the worker's own: refused, timed out, killed for
memory, crashed, lost with the engine; each names the task and action and says what to do."""

from __future__ import annotations

import os

import attrs
import docker.errors

from flyte_backend_docker.engine import EngineGone, sigkill_hint
from flyte_backend_docker.pool import PoolResult
from flyte_backend_docker.resources import describe_memory
from flyte_core.extend import ActionOutcome, ActionSpec, ErrorInfo


def refused(spec: ActionSpec, why: str) -> ActionOutcome:
    """The task cannot run in a container at all (``why`` says what to change)."""
    return ActionOutcome(error=ErrorInfo("ModuleLoadError", "user", f"Task '{spec.task_name}' cannot run in a "
                                         f"container: {why}.", action=spec.action), final=True)


def start_refused(spec: ActionSpec, e: docker.errors.APIError) -> ActionOutcome | None:
    """The engine would not start the container for a reason the user can fix; None for others."""
    text = str(e.explanation or e)
    if "could not select device driver" in text or ("gpu" in text.lower() and "capabilit" in text):
        assert spec.task is not None
        gpu = spec.task.env.resources.gpu if spec.task.env.resources is not None else None
        return ActionOutcome(error=ErrorInfo(
            "GPUUnavailableError", "user",
            f"Task '{spec.task_name}' requests GPUs (Resources(gpu={gpu!r})), but this Docker engine has no GPU "
            "runtime; install the NVIDIA Container Toolkit and restart the engine, run on a backend with GPUs "
            f"(e.g. kubernetes), or drop the gpu request (task.override(resources=...)). The engine said: {text}",
            action=spec.action), final=True)
    return None


def engine_gone(spec: ActionSpec, e: EngineGone) -> ActionOutcome:
    """The attempt's container was lost with its engine: say so, and how to redo only what is missing."""
    host = os.environ.get("DOCKER_HOST") or "the default socket"
    return ActionOutcome(error=ErrorInfo(
        "TaskInterruptedError", "system",
        f"The container of action {spec.action} (task '{spec.task_name}', attempt {spec.attempt}) was lost: {e} "
        f"(engine: {host}). Everything that finished is kept in the run store: once `docker info` answers again, "
        f"`flyte run --recover {spec.run_name} ...` (same program and inputs) redoes only the unfinished actions.",
        action=spec.action), final=True)


def timed_out(spec: ActionSpec) -> ActionOutcome:
    """The attempt ran past its timeout and its container was stopped."""
    return ActionOutcome(error=ErrorInfo(
        "TaskTimeoutError", "user",
        f"Task '{spec.task_name}' did not finish within its timeout of {spec.timeout:g}s; its container was "
        "stopped.", action=spec.action))


def oom_killed(spec: ActionSpec, limit: str, tail: list[str]) -> ActionOutcome:
    """The container was killed for exceeding its memory limit ``limit``; ``tail``: its last lines."""
    msg = (f"Task '{spec.task_name}' (action {spec.action}) exceeded its memory limit of {limit} and was killed; "
           "raise Resources(memory=...) or use less memory.")
    if tail:
        msg += "\nLast output lines:\n" + "\n".join(tail)
    return ActionOutcome(error=ErrorInfo("OOMError", "user", msg, action=spec.action))


def crashed(spec: ActionSpec, code: int, tail: list[str]) -> ActionOutcome:
    """The container exited with ``code`` before its task finished; ``tail``: its last lines."""
    msg = (f"The container of action {spec.action} (task '{spec.task_name}', attempt {spec.attempt}) exited "
           f"with code {code} before the task finished." + sigkill_hint(code))
    if tail:
        msg += "\nLast output lines:\n" + "\n".join(tail)
    return ActionOutcome(error=ErrorInfo("TaskInterruptedError", "system", msg, action=spec.action))


def with_action(outcome: ActionOutcome, spec: ActionSpec) -> ActionOutcome:
    """``outcome`` with its error naming the attempt's action when the worker left it out."""
    if outcome.error is not None and outcome.error.action is None:
        return attrs.evolve(outcome, error=attrs.evolve(outcome.error, action=spec.action))
    return outcome


def pool_failure(spec: ActionSpec, result: PoolResult, reusable: bool = True) -> ActionOutcome:
    """The outcome of an attempt on a warm container (``reusable``) or a standby one that ended
    without one; shaped as on fresh ones."""
    assert spec.task is not None
    if result.kind == "timeout":
        return timed_out(spec)
    if result.oom:
        return oom_killed(spec, describe_memory(spec.task.env.resources), list(result.tail))
    return ActionOutcome(error=ErrorInfo("TaskInterruptedError", "system", result.message(spec, reusable),
                                         action=spec.action))
