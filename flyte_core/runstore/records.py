"""Records kept by the run store (frozen attrs models; the store owns their wire form)."""

from __future__ import annotations

import enum
from typing import Any

import attrs

from flyte_core.errors.info import ErrorInfo as ErrorInfo  # a record of the run store too


class Phase(enum.StrEnum):
    """Where a run or action is, named as Flyte 2's ``ActionPhase``."""

    QUEUED = "queued"
    WAITING_FOR_RESOURCES = "waiting_for_resources"
    INITIALIZING = "initializing"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        """True once the run or action can no longer change."""
        return self in _TERMINAL

    def __str__(self) -> str:
        return self.value


_TERMINAL = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.ABORTED, Phase.TIMED_OUT, Phase.INTERRUPTED})


@attrs.frozen
class RunRecord:
    """One run: its root task, phase, backend, timing, inputs/outputs (literal maps) and error."""

    name: str
    task: str
    phase: Phase
    backend: str
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    #: Process id and host of the controller driving the run (to detect dead controllers).
    pid: int | None = None
    host: str | None = None
    labels: dict[str, str] = attrs.field(factory=dict)
    #: Last time the controller said it is alive (seconds since the epoch).
    heartbeat: float | None = None
    #: Someone asked (``flyte runs abort``) for the run to be aborted.
    abort_requested: bool = False
    #: The run this one recovers (reusing its succeeded actions), if any.
    recovered_from: str | None = None


@attrs.frozen
class ActionRecord:
    """One action (a task call) in a run: its place in the tree, phase, attempts and data."""

    run: str
    action: str
    parent: str | None
    task: str
    phase: Phase
    attempts: int = 0
    group: str | None = None
    created_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    cache_hit: bool = False
    #: The run whose outputs this action reused instead of running (recovery), if any.
    recovered_from: str | None = None


@attrs.frozen
class CacheEntry:
    """A cached result: the outputs of ``task`` for the inputs and version hashed into ``key``."""

    task: str
    key: str
    version: str
    outputs: dict[str, Any]
    run: str
    action: str
    created_at: float


@attrs.frozen
class EventRecord:
    """A phase change of an action (or of the run, with ``action`` None), in order."""

    run: str
    action: str | None
    phase: Phase
    attempt: int
    at: float
    message: str = ""


@attrs.frozen
class LogLine:
    """A line a task printed or logged: which action and attempt, when, and on which stream."""

    run: str
    action: str
    attempt: int
    at: float
    stream: str
    line: str
