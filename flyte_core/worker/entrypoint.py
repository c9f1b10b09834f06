"""``python -m flyte_core.worker.entrypoint SPEC_JSON_PATH``: run one attempt of one action in this
process and write its outcome; what out-of-process backends (worker processes, containers) start.

``python -m flyte_core.worker.entrypoint --serve DONE_FD`` runs attempts one after another in the same
process: it reads a spec path per line from stdin, and after writing each outcome writes one line to
file descriptor ``DONE_FD``; it exits at the end of stdin. The local-process backend runs the retries
of an action this way, so module-level state carries over between attempts as in Flyte 2's local mode.

The spec file (:class:`WorkerSpec`, JSON) names the task by reference, carries the input literals,
the context the task must see, and how to reach the run's controller (a unix socket and a token)
for nested task calls. The outcome (:class:`~flyte_core.run.outcome.ActionOutcome`, JSON) is written
atomically to ``outcome_path``.

Exit status: 0 once the outcome is written, whether the task succeeded or failed (a task module
that cannot be loaded is a failed outcome too); anything else means the worker itself broke, and
the backend reports the exit status and the worker's last output lines.

Start-up time is paid by every action, so imports stay light (no cattrs, no run store).
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from flyte_core.errors.core import CodeLoadError
from flyte_core.run.outcome import ActionOutcome
from flyte_core.task.template import TaskRef
from flyte_core.worker.channel_client import MAIN_ALIAS
from flyte_core.worker.findtask import find_task, load_module

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flyte_core.plugins.manager import PluginRefs, PluginSet
    from flyte_core.run.backend import ActionSpec
    from flyte_core.task.kinds import TaskKindRegistry
    from flyte_core.types.transformer import ConversionContext

#: The wire version of spec and outcome files; equal to ``flyte_core.wire.SCHEMA_VERSION``, which
#: is not imported here because cattrs would add ~30 ms to every worker's start-up (a test checks).
SCHEMA_VERSION = 1


@attrs.frozen
class WorkerSpec:
    """Everything a worker needs to run one attempt of one action, as written to the spec file."""

    run_name: str
    action: str
    attempt: int
    task: TaskRef
    task_name: str
    #: Put first on ``sys.path``; relative ``task.file`` paths are under it.
    code_root: str
    inputs: dict[str, Any]
    #: Where the outcome JSON goes (written to ``outcome_path + ".tmp"`` then renamed).
    outcome_path: str
    raw_data_path: str
    run_base_dir: str
    #: The data store root (an fsspec URL) offloaded values are read from and written to; and the
    #: prefix this attempt's own offloaded values go under.
    data_url: str | None
    data_prefix: str
    backend: str
    mode: str = "local"
    group: str | None = None
    custom_context: dict[str, str] = attrs.field(factory=dict)
    env_vars: dict[str, str] = attrs.field(factory=dict)
    project: str = "default"
    domain: str = "development"
    org: str = "local"
    #: The channel's socket and this attempt's token; None when nested calls are not served.
    channel_path: str | None = None
    channel_token: str | None = None
    #: Extra import paths, appended after the interpreter's own (the host's, for local workers).
    sys_path: list[str] = attrs.field(factory=list)
    #: ``flyte.ctx()`` fields: the task's version, the run's start (seconds since the epoch, UTC),
    #: whether the run cache is off, and the base folders of the runs this run recovers.
    version: str = ""
    run_start_time: float | None = None
    disable_run_cache: bool = False
    recovered_run_dirs: list[str] = attrs.field(factory=list)
    #: The session's plugins (:class:`~flyte_core.plugins.manager.PluginRefs`): whether entry points load,
    #: the plugins it named (``module`` or ``module:attr``) and the names it blocked.
    autoload_plugins: bool = True
    plugins: list[str] = attrs.field(factory=list)
    blocked_plugins: list[str] = attrs.field(factory=list)

    def to_json(self) -> dict[str, Any]:
        """The spec as a JSON object, stamped with :data:`SCHEMA_VERSION` (to be serialised at
        once: its dicts and lists are the spec's own, not copies)."""
        # attrs.asdict walks every value for nested attrs classes; only ``task`` is one (a backend
        # of warm workers makes one of these per attempt).
        data = {name: getattr(self, name) for name in _SPEC_FIELDS}
        task = self.task
        data["task"] = {"module": task.module, "name": task.name, "file": task.file}
        data["schema"] = SCHEMA_VERSION
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkerSpec:
        """Read a spec written by :meth:`to_json`, refusing other schema versions."""
        body = dict(data)
        version = body.pop("schema", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(f"The worker spec has schema version {version}, but this flyte-core reads "
                             f"version {SCHEMA_VERSION}; run workers with the flyte-core that wrote it.")
        body["task"] = TaskRef(**body["task"])
        return cls(**body)

    def write(self, path: str) -> None:
        """Write the spec file atomically."""
        _write_json(path, self.to_json())

    @classmethod
    def read(cls, path: str) -> WorkerSpec:
        """Read a spec file (a path, or an fsspec URL for workers on other machines)."""
        with _open(path, "r") as f:
            return cls.from_json(json.load(f))


#: The fields of a worker spec, in order.
_SPEC_FIELDS = tuple(f.name for f in attrs.fields(WorkerSpec))


def worker_spec(
    spec: ActionSpec, *, task: TaskRef, outcome_path: str, conversion: ConversionContext,
    channel_path: str | None, channel_token: str | None, sys_path: Iterable[str] = (),
    code_root: str | None = None,
) -> WorkerSpec:
    """The :class:`WorkerSpec` for one attempt the controller handed a backend (``spec``); its code
    is imported from ``code_root`` (where the worker sees the code: ``spec.code_root`` if None)."""
    ctx, store = spec.context, conversion.store
    return WorkerSpec(
        run_name=spec.run_name, action=spec.action, attempt=spec.attempt, task=task, task_name=spec.task_name,
        code_root=spec.code_root if code_root is None else code_root, inputs=dict(spec.inputs),
        outcome_path=outcome_path,
        raw_data_path=ctx.raw_data_path, run_base_dir=ctx.run_base_dir,
        data_url=store.root if store is not None else None,
        # Each attempt offloads under its own prefix: workers do not share the host's counter.
        data_prefix=f"{conversion.prefix.rstrip('/')}/{spec.action}-{spec.attempt}",
        backend=ctx.backend, mode=ctx.mode, group=ctx.group_data, custom_context=dict(ctx.custom_context),
        env_vars=dict(ctx.env_vars), project=ctx.action.project, domain=ctx.action.domain, org=ctx.action.org,
        channel_path=channel_path, channel_token=channel_token, sys_path=list(sys_path),
        version=ctx.version, run_start_time=ctx.run_start_time.timestamp() if ctx.run_start_time else None,
        disable_run_cache=ctx.disable_run_cache, recovered_run_dirs=list(ctx.recovered_run_dirs),
        autoload_plugins=spec.plugins.autoload, plugins=list(spec.plugins.named),
        blocked_plugins=list(spec.plugins.blocked),
    )


def outcome_to_json(outcome: ActionOutcome) -> dict[str, Any]:
    """An outcome as a JSON object (what an outcome file holds), for backends that pass it inline."""
    return {**attrs.asdict(outcome), "schema": SCHEMA_VERSION}


def outcome_from_json(data: dict[str, Any]) -> ActionOutcome:
    """Read an outcome written by :func:`outcome_to_json` (in the backend's process)."""
    from flyte_core import wire
    outcome: ActionOutcome = wire.load(data, ActionOutcome)
    return outcome


def write_outcome(path: str, outcome: ActionOutcome) -> None:
    """Write an outcome file atomically (the backend never sees half a file)."""
    _write_json(path, outcome_to_json(outcome))


def read_outcome(path: str) -> ActionOutcome:
    """Read an outcome file written by :func:`write_outcome` (in the backend's process)."""
    with _open(path, "r") as f:
        return outcome_from_json(json.load(f))


def run(spec: WorkerSpec) -> ActionOutcome:
    """Load the task, run the attempt in this process and return its outcome."""
    from flyte_core.run import body as runtime
    from flyte_core.runtime import context
    from flyte_core.worker.channel_client import ChannelDispatcher

    _set_sys_path(spec)
    try:
        # Never this module: the script, loaded under an alias (once: a served retry keeps its state).
        if spec.task.module == "__main__" and MAIN_ALIAS not in sys.modules:
            load_module(spec.task, spec.code_root)
        task = find_task(spec.task, spec.code_root)
    except CodeLoadError as e:
        from flyte_core.errors.info import ErrorInfo

        tb = _import_traceback(e.__cause__) if e.__cause__ is not None else ""
        return ActionOutcome(error=ErrorInfo("ModuleLoadError", "user", str(e), tb, spec.action), final=True)
    engine, conv = _engine(spec)
    # Only a task with a plugin_config runs through a task kind: the registry (every plugin's hook,
    # and what each imports for its kinds) is not built in the other workers.
    kinds = _task_kinds(_refs(spec)) if task.plugin_config is not None else None
    dispatcher = None
    if spec.channel_path and spec.channel_token:
        dispatcher = ChannelDispatcher(path=spec.channel_path, token=spec.channel_token, action=spec.action,
                                       attempt=spec.attempt, code_root=spec.code_root, engine=engine,
                                       conversion=conv)
    ctx = context.TaskContext(
        action=context.ActionID(spec.action, spec.run_name, spec.project, spec.domain, spec.org),
        attempt=spec.attempt, task_name=spec.task_name, mode=spec.mode, backend=spec.backend,
        raw_data_path=spec.raw_data_path, run_base_dir=spec.run_base_dir, group_data=spec.group,
        custom_context=spec.custom_context, env_vars=spec.env_vars, dispatcher=dispatcher,
        version=spec.version, disable_run_cache=spec.disable_run_cache,
        run_start_time=_utc(spec.run_start_time), recovered_run_dirs=tuple(spec.recovered_run_dirs),
    )
    try:
        if task.is_async:
            import asyncio

            return asyncio.run(runtime.run_async(task, dict(spec.inputs), ctx, engine, conv, kinds))
        return runtime.run_sync(task, dict(spec.inputs), ctx, engine, conv, kinds)
    finally:
        if dispatcher is not None:
            dispatcher.close()


def _utc(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def main(argv: list[str] | None = None) -> int:
    """Run the attempt described by the spec file named on the command line; see the module doc."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--serve" and args[1].isdigit():
        return serve(int(args[1]))
    if len(args) != 1:
        print("usage: python -m flyte_core.worker.entrypoint SPEC_JSON_PATH | --serve DONE_FD", file=sys.stderr)
        return 2
    spec = WorkerSpec.read(args[0])
    return 0 if _deliver(spec, run(spec)) else 1


def _deliver(spec: WorkerSpec, outcome: ActionOutcome) -> bool:
    """Write the attempt's outcome; False when its folder is gone. The controller removes an
    attempt's folder only once it no longer waits for the outcome (the run ended or was aborted
    while the attempt was finishing): one line says so, not a traceback."""
    try:
        write_outcome(spec.outcome_path, outcome)
    except FileNotFoundError:
        print(f"flyte: action {spec.action}: outcome not written, the run's controller no longer waits for it "
              "(the run ended or was aborted)", file=sys.stderr)
        return False
    return True


def serve(done_fd: int) -> int:
    """Run the attempts whose spec paths arrive on stdin, one per line, until stdin ends; after each
    outcome is written, write a line to ``done_fd`` (see the module doc)."""
    with os.fdopen(done_fd, "wb", buffering=0) as done:
        for line in sys.stdin:
            if not line.strip():
                continue
            spec = WorkerSpec.read(line.strip())
            _deliver(spec, run(spec))
            flush_output()  # what the attempt printed reaches its logs before the next one starts
            done.write(b"done\n")
    return 0


def _set_sys_path(spec: WorkerSpec) -> None:
    # The code root first, so the user's modules win over same-named installed ones (as when the
    # host ran them); then the host's extra paths, so whatever it could import, the worker can.
    root = os.path.abspath(spec.code_root)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    sys.path.extend(p for p in spec.sys_path if p not in sys.path)


def _refs(spec: WorkerSpec) -> PluginRefs:
    from flyte_core.plugins.manager import PluginRefs

    return PluginRefs(spec.autoload_plugins, tuple(spec.plugins), tuple(spec.blocked_plugins))


@functools.cache
def _process_plugins(refs: PluginRefs) -> PluginSet:
    """The worker process's plugin manager, built once per process (and session's plugin choice): a
    worker that takes many attempts (a warm container) pays for plugin discovery once."""
    from flyte_core.plugins.manager import load_plugin_refs

    return load_plugin_refs(refs)


@functools.cache
def _process_engine(data_url: str | None, refs: PluginRefs) -> tuple[Any, Any]:
    """The worker process's type engine and data store, built once per process and store."""
    from flyte_core.types.engine import TypeEngine

    plugins = _process_plugins(refs)
    engine = TypeEngine(lambda key, hint: plugins.hook.flyte_type_transformer(python_type=key, hint=hint))
    store = None
    if data_url is not None:
        from flyte_core.storage.datastore import DataStore

        store = DataStore(data_url)
    return engine, store


@functools.cache
def _task_kinds(refs: PluginRefs) -> TaskKindRegistry:
    """The task kinds plugins register (tasks with a ``plugin_config``), as a session builds them."""
    from flyte_core.task.kinds import TaskKindRegistry

    reg = TaskKindRegistry()
    _process_plugins(refs).fill_registry("flyte_register_task_kinds", reg)
    return reg


def _engine(spec: WorkerSpec) -> tuple[Any, ConversionContext]:
    """A type engine and conversion context built like the session's (see Session.__init__); each
    attempt gets its own context (its own offload prefix)."""
    from flyte_core.runtime.loans import writable
    from flyte_core.types.transformer import ConversionContext

    engine, store = _process_engine(spec.data_url, _refs(spec))
    return engine, ConversionContext(store=store, prefix=spec.data_prefix, writable=writable)


def _import_traceback(e: BaseException) -> str:
    """The traceback of an import failure showing only the user's frames (not importlib's or ours)."""
    import traceback

    skip = tuple(os.path.dirname(os.path.abspath(m)) + os.sep for m in (__file__, str(importlib.__file__)))
    tb = traceback.TracebackException.from_exception(e)
    tb.stack = traceback.StackSummary.from_list([
        f for f in tb.stack
        if not f.filename.startswith("<frozen") and not os.path.abspath(f.filename).startswith(skip)
    ])
    return "".join(tb.format())


def _is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _open(path: str, mode: str) -> Any:
    """A text file at a path or an fsspec URL (imported only for URLs: most workers never need it)."""
    if _is_url(path):
        import fsspec

        return fsspec.open(path, mode, encoding="utf-8")
    return open(path.removeprefix("file://"), mode, encoding="utf-8")


def _write_json(path: str, data: dict[str, Any]) -> None:
    if _is_url(path):  # object stores make a written object visible whole, at close
        with _open(path, "w") as f:
            json.dump(data, f)
        return
    path = path.removeprefix("file://")
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def flush_output() -> None:
    """Flush what the task printed or logged (before a worker leaves with ``os._exit``, which
    skips Python's own flushing at exit)."""
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed or broken stream: nothing more can reach it
            pass


def exit_code(e: SystemExit) -> int:
    """The process exit status ``sys.exit(...)`` in a task body asks for (as Python computes it)."""
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    print(e.code, file=sys.stderr)  # what Python itself does with sys.exit("message")
    return 1


if __name__ == "__main__":
    try:
        code = main()
    except SystemExit as e:  # sys.exit() in a task body: no outcome, the backend reports the code
        code = exit_code(e)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    # The outcome is written, so the action is over: exit now instead of waiting for threads the
    # task left running (like a container whose main process ended). Flush what it printed first.
    flush_output()
    os._exit(code)
