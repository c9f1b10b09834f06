"""Where the running action is known: a context variable set while a task body executes.

Outside a run it is unset, and calling a task is calling its function (as the seed says).
``flyte.ctx()`` (:func:`public`) then returns :data:`NULL_TASK_CONTEXT`, a falsy context whose
fields are all None, as Flyte 2 does; the core itself uses :func:`current` (None outside a task).
"""

from __future__ import annotations

import contextvars
import itertools
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from flyte_core.runtime.current import CURRENT as _current
from flyte_core.runtime.current import current as current
from flyte_core.runtime.loans import writable

if TYPE_CHECKING:
    from flyte_core.runtime.checkpoint import Checkpoint, CheckpointPaths
    from flyte_core.runtime.dispatcher import Dispatcher
    from flyte_core.runtime.reportpage import Report

#: Where ``TaskContext.checkpoint`` keeps its helper in ``TaskContext.data`` (one per attempt).
_CHECKPOINT_KEY = "__flyte_checkpoint__"


@attrs.frozen
class ActionID:
    """Identifies one action: its name (a path in the run's action tree) and its run."""

    name: str
    run_name: str
    project: str = "default"
    domain: str = "development"
    org: str = "local"


class Sequence:
    """A thread-safe counter shared by every copy of one attempt's context (groups, custom
    context blocks): numbers the attempt's ``flyte.durable`` calls from 0, so a retry or a
    recovered run meets the same calls in the same order and replays their values."""

    __slots__ = ("_count",)

    def __init__(self) -> None:
        # itertools.count: next() is atomic, so no lock (one is made per attempt, most never used).
        self._count = itertools.count()

    def next(self) -> int:
        """The next number."""
        return next(self._count)


@attrs.frozen
class TaskContext:
    """What ``flyte.ctx()`` returns inside a task: the action, its attempt, and run-wide settings
    (the fields and helpers of Flyte 2's ``flyte.models.TaskContext`` that have a meaning here)."""

    action: ActionID
    attempt: int
    task_name: str
    mode: str
    backend: str
    raw_data_path: str
    run_base_dir: str
    group_data: str | None = None
    custom_context: Mapping[str, str] = attrs.field(factory=dict)
    env_vars: Mapping[str, str] = attrs.field(factory=dict)
    #: The object that turns nested task calls into child actions (in-process or over a channel).
    dispatcher: Dispatcher | None = attrs.field(default=None, repr=False, eq=False)
    #: The version of the running task (the hash of its source, as its cache uses).
    version: str = ""
    #: When the run started (UTC).
    run_start_time: datetime | None = None
    #: ``with_runcontext(disable_run_cache=True)``: no cache lookups or writes in this run.
    disable_run_cache: bool = False
    #: Base folders of the runs this run recovers (newest first), where earlier checkpoints live.
    recovered_run_dirs: tuple[str, ...] = ()
    #: Free-form per-attempt storage (Flyte 2's ``TaskContext.data``).
    data: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
    #: Numbers this attempt's ``flyte.durable`` calls (shared by every copy of the context).
    durable_sequence: Sequence = attrs.field(factory=Sequence, repr=False, eq=False)

    @property
    def run_name(self) -> str:
        """The run this action belongs to."""
        return self.action.run_name

    @property
    def task_action(self) -> ActionID:
        """The action of the running task (``action`` itself: traces do not swap it here)."""
        return self.action

    @property
    def attempt_number(self) -> int:
        """The attempt, counted from 0 as Flyte 2 counts it (``attempt`` counts from 1)."""
        return self.attempt - 1

    @property
    def output_path(self) -> str:
        """This action's folder in the data store (its report and checkpoints live there), ready to
        be written (a warm worker borrows it from its host first: :mod:`flyte_core.runtime.loans`)."""
        return writable(f"{self.run_base_dir.rstrip('/')}/{self.action.name}")

    @property
    def input_path(self) -> str | None:
        """None: inputs reach the task as literals from the run store, not as a file."""
        return None

    @property
    def interactive_mode(self) -> bool:
        """False: tasks here never run in a notebook's own process."""
        return False

    @property
    def code_bundle(self) -> None:
        """None: code reaches workers as a bundle the backend manages, not through the context."""
        return None

    @property
    def compiled_image_cache(self) -> None:
        """None: images are resolved by the backend that runs the task."""
        return None

    @property
    def in_driver_literal_conversion(self) -> bool:
        """False: literals are converted by the controller, outside any task's context."""
        return False

    @property
    def report(self) -> Report:
        """The action's report (``report=True`` tasks); a throwaway one otherwise."""
        from flyte_core.runtime.reportpage import report_for

        return report_for(self)

    @property
    def checkpoint_paths(self) -> CheckpointPaths:
        """Where this attempt saves its checkpoint, and the latest earlier one (a previous attempt's,
        or the recovered run's), found when first asked."""
        from flyte_core.runtime.checkpoint import paths_for

        return paths_for(self)

    @property
    def checkpoint(self) -> Checkpoint:
        """This attempt's :class:`~flyte_core.runtime.checkpoint.Checkpoint` helper (one per attempt)."""
        from flyte_core.runtime.checkpoint import Checkpoint

        cp = self.data.get(_CHECKPOINT_KEY)
        if cp is None:
            paths = self.checkpoint_paths
            cp = self.data[_CHECKPOINT_KEY] = Checkpoint(paths.checkpoint_path or "", paths.prev_checkpoint_path)
        return cp

    # Distributed-training variables, read from the environment as Flyte 2 reads them.
    rank = property(lambda self: _env_int("RANK"), doc="$RANK, or None.")
    local_rank = property(lambda self: _env_int("LOCAL_RANK"), doc="$LOCAL_RANK, or None.")
    world_size = property(lambda self: _env_int("WORLD_SIZE"), doc="$WORLD_SIZE, or None.")
    local_world_size = property(lambda self: _env_int("LOCAL_WORLD_SIZE"), doc="$LOCAL_WORLD_SIZE, or None.")
    node_rank = property(lambda self: _env_int("NODE_RANK"), doc="$NODE_RANK, or None.")
    nnodes = property(lambda self: _env_int("NNODES"), doc="$NNODES, or None.")
    master_addr = property(lambda self: os.environ.get("MASTER_ADDR"), doc="$MASTER_ADDR, or None.")
    master_port = property(lambda self: _env_int("MASTER_PORT"), doc="$MASTER_PORT, or None.")
    restart_attempt = property(lambda self: _env_int("JOBSET_RESTART_ATTEMPT"), doc="Always None here.")

    def is_in_cluster(self) -> bool:
        """True when the task runs in a Kubernetes pod (the kubernetes backend)."""
        return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))

    def replace(self, **changes: Any) -> TaskContext:
        """A copy with some fields changed (``data`` is merged into a copy of the current data)."""
        if "data" in changes and changes["data"] is not None:
            changes["data"] = {**self.data, **changes["data"]}
        return attrs.evolve(self, **changes)

    def __getitem__(self, key: str) -> Any:
        return self.data.get(key)

    def with_group(self, group: str | None) -> TaskContext:
        """A copy whose nested calls are grouped under ``group``."""
        return attrs.evolve(self, group_data=group)


def _env_int(name: str) -> int | None:
    v = os.environ.get(name)
    return int(v) if v is not None else None


class NullTaskContext(TaskContext):
    """What ``flyte.ctx()`` returns outside a task: falsy, every field None, so task code can read
    ``flyte.ctx().custom_context`` without a guard and ``if flyte.ctx():`` asks "am I in a task?"."""

    def __init__(self) -> None:  # every field None, skipping validation and defaults
        for f in attrs.fields(TaskContext):
            object.__setattr__(self, f.name, None)

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NullTaskContext()"

    @property
    def run_name(self) -> str:
        """None outside a task."""
        return None  # type: ignore[return-value]

    # Outside a task these read as None too (rather than failing on the None fields).
    task_action = run_name  # type: ignore[assignment]
    attempt_number = run_name  # type: ignore[assignment]
    output_path = run_name
    report = run_name  # type: ignore[assignment]
    checkpoint_paths = run_name  # type: ignore[assignment]
    checkpoint = run_name  # type: ignore[assignment]


#: The single falsy context ``flyte.ctx()`` returns outside a task.
NULL_TASK_CONTEXT = NullTaskContext()

def public() -> TaskContext:
    """Flyte 2's ``flyte.ctx()``: the running action's context, or the falsy
    :data:`NULL_TASK_CONTEXT` outside a task."""
    ctx = _current.get()
    return ctx if ctx is not None else NULL_TASK_CONTEXT


@contextmanager
def use(ctx: TaskContext | None) -> Iterator[None]:
    """Make ``ctx`` current for the duration of the block."""
    token = _current.set(ctx)
    try:
        yield
    finally:
        _current.reset(token)


def set_current(ctx: TaskContext | None) -> contextvars.Token[TaskContext | None]:
    """Set the current context; return the token to reset it with :func:`reset`."""
    return _current.set(ctx)


def reset(token: contextvars.Token[TaskContext | None]) -> None:
    """Undo :func:`set_current`."""
    _current.reset(token)


@contextmanager
def custom_context(**values: str) -> Iterator[None]:
    """Flyte 2's ``flyte.custom_context``: inside the block, ``values`` are added to (or override)
    the running task's custom context, and every task called in the block receives them, and
    passes them on to the tasks it calls. Blocks nest; leaving one restores the outer values.
    Outside a task it does nothing."""
    ctx = current()
    if ctx is None:
        yield
        return
    merged = {**ctx.custom_context, **{k: str(v) for k, v in values.items()}}
    with use(attrs.evolve(ctx, custom_context=merged)):
        yield


def get_custom_context() -> dict[str, str]:
    """The running task's custom context (``with_runcontext(custom_context=...)``, passed down
    from its callers, and enclosing ``flyte.custom_context`` blocks); empty outside a task."""
    ctx = current()
    return dict(ctx.custom_context) if ctx is not None else {}
