"""A session: one plugin manager, backend choice, data store and run store, and the runs made
with them. ``flyte.init()`` keeps a default session; embedders create as many as they like.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from flyte_core.config.files import Config, load_config
from flyte_core.config.schema import ConfigValueError
from flyte_core.errors.core import FlyteUsageError, RunAbortedError, TaskInputError
from flyte_core.plugins.manager import PluginSet, make_plugin_set, process_plugins
from flyte_core.runstore.records import ErrorInfo, Phase, RunRecord
from flyte_core.runstore.store import RunStore
from flyte_core.security.names import optional_name
from flyte_core.storage.datastore import DataStore
from flyte_core.task.kinds import TaskKindRegistry
from flyte_core.task.template import TaskTemplate
from flyte_core.types.engine import TypeEngine
from flyte_core.types.transformer import ConversionContext

# What driving a run needs (asyncio, the controller, the cache) is imported by run_with: a session
# that only reads the run store (`flyte runs list`) never loads it, and a run served from the cache
# (run/served.py) loads neither that nor logging, sockets or launchers.
if TYPE_CHECKING:
    from flyte_core.run.backend import Backend
    from flyte_core.run.backend_registry import BackendRegistry
    from flyte_core.run.handle import Run
    from flyte_core.run.launcher import LauncherRegistry, LaunchRequest
    from flyte_core.run.observers import RunObserver


@attrs.frozen
class RunOptions:
    """Per-run choices (``flyte.with_runcontext``); None means "use the session's"."""

    backend: str | None = None
    backend_options: Mapping[str, Any] = attrs.field(factory=dict)
    name: str | None = attrs.field(default=None, validator=optional_name())
    env_vars: Mapping[str, str] = attrs.field(factory=dict)
    labels: Mapping[str, str] = attrs.field(factory=dict)
    custom_context: Mapping[str, str] = attrs.field(factory=dict)
    overwrite_cache: bool = False
    raw_data_path: str | None = None
    max_action_concurrency: int | None = None
    observers: tuple[RunObserver, ...] = ()
    #: Recover this earlier run: reuse the outputs of every action of it that succeeded.
    recover: str | None = attrs.field(default=None, validator=optional_name("run name to recover"))
    #: What ``flyte.ctx().version`` says in every task of the run (else each task's own version).
    version: str | None = None
    #: Neither read nor write the cache in this run.
    disable_run_cache: bool = False
    #: Options that were accepted but have no effect here, said once on the run (``Run.notices``).
    notices: tuple[str, ...] = ()
    #: When the run counts as started (``flyte.ctx().run_start_time``); None: now.
    started_at: datetime | None = None


class Session:
    """Everything a program needs to run tasks: plugins, a backend, a data store and a run store.

    Two sessions in one process are independent (own plugins, stores and backends) and may run
    concurrently. Nothing starts until :meth:`run`; :meth:`close` releases the stores.
    """

    def __init__(
        self,
        *,
        config: Config | str | os.PathLike[str] | None = None,
        backend: str | None = None,
        backend_options: Mapping[str, Any] | None = None,
        data_url: str | None = None,
        run_store: RunStore | str | None = None,
        root_dir: str | os.PathLike[str] | None = None,
        plugins: tuple[Any, ...] = (),
        autoload_plugins: bool | None = None,
    ) -> None:
        self.config = config if isinstance(config, Config) else load_config(config)
        self.backend_name = backend or self.config.backend
        self._backend_options = dict(backend_options or {})
        self._autoload_plugins = autoload_plugins
        self._named_plugins = tuple(plugins)
        # This session's plugins: its own if it names plugins or turns autoload off, else the process's,
        # loaded on first use (reading a finished run from the store needs none).
        self._plugins: PluginSet | None = (make_plugin_set(autoload=autoload_plugins, plugins=plugins)
                                           if plugins or autoload_plugins is not None else None)
        self.engine = TypeEngine(
            lambda key, hint: self.plugins.hook.flyte_type_transformer(python_type=key, hint=hint)
        )
        self.data = DataStore(data_url or self.config.data_url)
        self._run_store_arg = run_store
        self._runs: RunStore | None = None
        self._backends: BackendRegistry | None = None
        self._task_kinds: TaskKindRegistry | None = None
        self._launchers: LauncherRegistry | None = None
        self.root_dir = os.path.realpath(root_dir or self.config.root_dir or os.getcwd())
        self._lock = threading.Lock()
        #: Settings given to ``flyte.init`` that are accepted and have no effect here.
        self.notices: list[str] = []

    @property
    def plugins(self) -> PluginSet:
        """This session's plugins: the process's own unless it names plugins or turns autoload off."""
        if self._plugins is None:
            self._plugins = process_plugins()
        return self._plugins

    def add_plugins(self, *plugins: Any) -> None:
        """Load more plugins (modules, objects or dotted names) into this session; call it before the
        session's first run, which reads the plugins' registries once. The session then has a plugin
        manager of its own: the process's, shared with other sessions, is left as it is. Workers
        load these plugins too when they are importable (a module in the project folder)."""
        self._named_plugins += plugins
        self._plugins = make_plugin_set(autoload=self._autoload_plugins, plugins=self._named_plugins)
        with self._lock:
            self._backends = self._task_kinds = self._launchers = None

    # --- lazily built parts -------------------------------------------------------------------

    @property
    def runs(self) -> RunStore:
        """The run store (opened on first use)."""
        with self._lock:
            if self._runs is None:
                arg = self._run_store_arg
                if arg is None or isinstance(arg, str):
                    from flyte_core.runstore.local import open_run_store

                    self._runs = open_run_store(arg or self.config.runs_path)
                else:
                    self._runs = arg
            return self._runs

    @property
    def store_key(self) -> str:
        """The run store's key (:func:`~flyte_core.runstore.key.run_store_key`): backends label
        what they create with it so that runs of the same name in other stores are never touched."""
        from flyte_core.runstore.key import run_store_key

        return run_store_key(self.runs)

    @property
    def backends(self) -> BackendRegistry:
        """Backends registered by plugins."""
        with self._lock:
            if self._backends is None:
                from flyte_core.run.backend_registry import BackendRegistry

                reg = BackendRegistry()
                self.plugins.fill_registry("flyte_register_backends", reg)
                self._backends = reg
            return self._backends

    @property
    def launchers(self) -> LauncherRegistry:
        """Launchers registered by plugins (backends whose runs are driven elsewhere)."""
        with self._lock:
            if self._launchers is None:
                from flyte_core.run.launcher import LauncherRegistry

                reg = LauncherRegistry()
                self.plugins.fill_registry("flyte_register_launchers", reg)
                self._launchers = reg
            return self._launchers

    def launch(self, backend: str | None, request: LaunchRequest) -> RunRecord:
        """Start a run with ``backend``'s launcher (driven away from this process; see
        :mod:`flyte_core.run.launcher`) and return its record; follow it with :meth:`get_run`."""
        name = backend or self.backend_name
        launcher = self.launchers.find(name)
        if launcher is None:
            raise FlyteUsageError(f"Backend '{name}' drives its runs in this process; it cannot launch a run that "
                                  f"outlives it (backends that can: {', '.join(self.launchers.names()) or 'none'}).")
        if request.name is not None and self.runs.get_run(request.name) is not None:
            raise TaskInputError(f"A run named '{request.name}' already exists; choose another name.")
        return launcher.launch(self, request)

    @property
    def task_kinds(self) -> TaskKindRegistry:
        """Task kinds registered by plugins."""
        with self._lock:
            if self._task_kinds is None:
                reg = TaskKindRegistry()
                self.plugins.fill_registry("flyte_register_task_kinds", reg)
                self._task_kinds = reg
            return self._task_kinds

    def conversion(self, run_name: str, part: str = "") -> ConversionContext:
        """A conversion context writing offloaded values under the run's folder."""
        return ConversionContext(store=self.data, prefix=self.data.url("runs", run_name, part or "data"))

    def decode_untyped(self, literal: Any) -> tuple[Any, ...]:
        """Best-effort decoding of an output literal when the task object is not at hand."""
        if literal is None:
            return ()
        return (literal.get("d"),)

    # --- running ------------------------------------------------------------------------------

    def make_backend(self, name: str | None = None, options: Mapping[str, Any] | None = None) -> Backend:
        """A fresh backend instance for one run."""
        name = name or self.backend_name
        factory = self.backends.get(name)
        merged = {**self.config.backend_options(name), **self._backend_options, **(options or {})}
        try:
            return factory(merged)
        except ConfigValueError as e:  # a backend refused its options: name the file they came from
            raise e.located(self.config.source) if self.config.source and e.source is None else e from None

    def run(self, task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> Run:
        """Run ``task`` as the top-level action of a new run and wait for it to finish.

        Returns the :class:`Run`; if the task failed, raises its ``flyte.errors`` exception
        (with the run as ``.run``).
        """
        return self.run_with(RunOptions(), task, args, kwargs)

    async def run_aio(self, task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> Run:
        """:meth:`run` for async code: the run proceeds on its own loop; this one is not blocked."""
        import asyncio

        return await asyncio.to_thread(self.run, task, *args, **kwargs)

    def run_with(
        self, options: RunOptions, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Run:
        """Run ``task`` with explicit per-run options."""
        if not isinstance(task, TaskTemplate):
            raise TypeError(
                f"flyte.run needs a task (a function decorated with @env.task), got {task!r}; "
                "plain functions can simply be called."
            )
        prior = self._prior_run(options.recover, task) if options.recover else None
        name = options.name or _new_run_name()
        backend_name = options.backend or self.backend_name
        conv = self.conversion(name, "inputs")
        if prior is not None and not args and not kwargs:
            inputs = dict(prior.inputs or {})  # recover with the inputs the run had
        else:
            bound = task.interface.bind(task.name, args, kwargs)
            inputs = self.engine.encode_inputs(task.name, task.interface, bound, conv)
        now = time.time()
        record = RunRecord(name=name, task=task.name, phase=Phase.QUEUED, backend=backend_name, created_at=now,
                           inputs=inputs, pid=os.getpid(), host=_hostname(), labels=dict(options.labels),
                           heartbeat=now, recovered_from=prior.name if prior else None)
        existing = self.runs.get_run(name)
        # A launcher may have reserved the name for the controller it started (that is us).
        if existing is not None and not (existing.phase is Phase.QUEUED and _launcher(existing) is not None):
            raise TaskInputError(f"A run named '{name}' already exists; choose another name.")
        from flyte_core.run.handle import Run
        from flyte_core.run.served import serve_from_cache

        if serve_from_cache(self, options, task, record) is not None:
            return Run(self, name, task, list(options.notices))
        import logging

        from flyte_core.run.settings import RunSettings

        backend = self.make_backend(backend_name, options.backend_options)
        settings = RunSettings(
            code_root=self.root_dir,
            raw_data_path=options.raw_data_path or self.data.url("runs", name, "raw"),
            run_base_dir=self.data.url("runs", name),
            env_vars={**self.config.env_vars, **options.env_vars},
            custom_context=dict(options.custom_context),
            labels=dict(options.labels),
            overwrite_cache=options.overwrite_cache,
            max_action_concurrency=options.max_action_concurrency,
            state_paths=tuple(str(p) for p in (getattr(self.runs, "path", None),) if p is not None),
            version=options.version,
            started_at=options.started_at or datetime.fromtimestamp(now, UTC),
            disable_run_cache=options.disable_run_cache,
            recovered_run_dirs=tuple(self.data.url("runs", r) for r in self._recovered_chain(prior)),
            plugins=self.plugins.refs(),
        )
        from flyte_core.run.cache import Cache
        from flyte_core.run.driver import RunDriver
        from flyte_core.run.failures import to_exception
        from flyte_core.run.memo import Reuse

        cache = None if options.disable_run_cache else Cache(self.runs, self.data)
        reuse = Reuse(cache, prior.name if prior else None,
                      self.runs.get_actions(prior.name) if prior else [], overwrite=options.overwrite_cache)
        driver = RunDriver(self, record, task, inputs, backend, settings, reuse, list(options.observers))
        logging.getLogger("flyte").info("Run %s: task %s on the %s backend, data under %s", name, task.name,
                                        backend_name, settings.run_base_dir)
        error = driver.drive()
        run = Run(self, name, task, [*options.notices, *driver.notices])
        if error is not None:
            if not isinstance(error, KeyboardInterrupt | FlyteUsageError | RunAbortedError):
                error = to_exception(run.record.error, task.name) if run.record.error else error
            error.run = run  # type: ignore[attr-defined]
            raise error
        return run

    def _recovered_chain(self, prior: RunRecord | None) -> list[str]:
        """The run ``prior`` and the runs it recovered in turn, newest first (a cycle ends it)."""
        names: list[str] = []
        while prior is not None and prior.name not in names:
            names.append(prior.name)
            prior = self.runs.get_run(prior.recovered_from) if prior.recovered_from else None
        return names

    def _prior_run(self, name: str, task: TaskTemplate[Any, Any]) -> RunRecord:
        rec = self.get_run(name)
        if rec is None:
            raise TaskInputError(f"Cannot recover run '{name}': there is no such run in {self.runs!r}.")
        if rec.task != task.name:
            raise TaskInputError(f"Cannot recover run '{name}' with task '{task.name}': it ran '{rec.task}'.")
        if not rec.phase.is_terminal:
            raise TaskInputError(f"Run '{name}' is still {rec.phase}; abort it before recovering it.")
        return rec

    def get_run(self, name: str) -> RunRecord | None:
        """Run ``name`` from the run store, settled as interrupted if its controller is gone (a
        launched run is brought up to date by its launcher instead)."""
        rec = self.runs.get_run(name)
        return self._settled(rec) if rec is not None else None

    def list_runs(self, **filters: Any) -> list[RunRecord]:
        """Runs from the run store (newest first), each settled as :meth:`get_run` does."""
        return [self._settled(r) for r in self.runs.list_runs(**filters)]

    def _settled(self, rec: RunRecord) -> RunRecord:
        from flyte_core.run.liveness import settle

        which = _launcher(rec)
        if which is None:
            settled = settle(self.runs, rec)
            if settled.phase is not rec.phase:  # its controller died just now: clean up after it
                settled = self._cleaned_after(settled)
            return settled
        if not rec.phase.is_terminal:
            launcher = self.launchers.find(which)
            if launcher is None:  # the plugin is gone: say so rather than guess at the run
                return attrs.evolve(rec, error=ErrorInfo(
                    "LauncherMissing", "system", f"Run '{rec.name}' was launched by '{which}', which no installed "
                    "plugin provides; install the plugin to follow it."))
            launcher.sync(self, rec)
            rec = self.runs.get_run(rec.name) or rec
        return rec

    def _cleaned_after(self, run: RunRecord) -> RunRecord:
        """Let plugins remove what an interrupted run left running; record what they removed."""
        try:
            said = [line for line in self.plugins.hook.flyte_run_interrupted(
                run=run, options=self.config.backend_options(run.backend), store=self.store_key) if line]
        except Exception as e:  # a broken plugin must not hide the run
            said = [f"cleaning up failed: {e}"]
        if not said or run.error is None:
            return run
        error = attrs.evolve(run.error, message=run.error.message + "\nCleaned up: " + "; ".join(said) + ".")
        run = attrs.evolve(run, error=error)
        self.runs.put_run(run)
        return run

    def abort(self, name: str) -> RunRecord:
        """Ask the controller of run ``name`` (in any process) to abort it."""
        rec = self.get_run(name)
        if rec is None:
            raise TaskInputError(self.no_such_run(name))
        if not rec.phase.is_terminal:
            self.runs.request_abort(name)
            which = _launcher(rec)
            launcher = self.launchers.find(which) if which is not None else None
            if launcher is not None:
                launcher.abort(self, rec)
        return rec

    def no_such_run(self, name: str) -> str:
        """Why run ``name`` is not found: which run store was searched and how to point at another."""
        store = getattr(self.runs, "path", None) or repr(self.runs)
        origin = f"config {self.config.source}" if self.config.source else "no config file found, so the default"
        return (f"No run named '{name}' in the run store {store} ({origin}); see `flyte runs list`. A run made "
                "with another config is in that config's store: run the command from that project's folder, or "
                "point at its config with `flyte -c PATH/.flyte/config.yaml runs ...`.")

    def wait_for(self, name: str, poll: float = 0.2) -> RunRecord:
        """Block until run ``name`` reaches a terminal phase (for runs driven elsewhere)."""
        while True:
            rec = self.get_run(name)
            if rec is None:
                raise LookupError(f"No run named '{name}' in {self.runs!r}.")
            if rec.phase.is_terminal:
                return rec
            time.sleep(poll)

    def close(self) -> None:
        """Release the run store."""
        if self._runs is not None:
            self._runs.close()
            self._runs = None


def _launcher(run: RunRecord) -> str | None:
    """The launcher that drives ``run`` elsewhere, if any (:func:`~flyte_core.run.launcher.launcher_of`)."""
    from flyte_core.run.launcher import launcher_of

    return launcher_of(run)


def _hostname() -> str:
    """``socket.gethostname()`` (the kernel's node name), without importing socket where ``os.uname`` has it."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def _new_run_name() -> str:
    # What secrets.token_hex(5) returns, without importing secrets (random, hmac, base64) at start-up.
    return "r" + os.urandom(5).hex()
