"""The ``docker`` backend: every action attempt runs in its own container on a Docker engine.

Per run: the image of each task environment is built once (content-hashed tags, so an unchanged
spec is never rebuilt), the project is shipped as one content-addressed code bundle through the
data store, and a channel (a unix socket, bind-mounted into task containers) serves nested task
calls, so a task in a container that calls another task starts a child container, at any depth —
without giving containers the Docker socket. Containers are labelled with their run and action
and removed as soon as their attempt's outcome and logs are collected, however it ended.

Tasks of an environment with ``reusable=flyte.ReusePolicy(...)`` run instead on warm worker
containers kept per run and environment (:mod:`flyte_backend_docker.pool`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import stat
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import docker
import docker.errors
import requests.exceptions

from flyte_backend_docker.engine import EngineCalls, EngineGone, ExitWatch, Slots, default_concurrency
from flyte_backend_docker.hostkill import HostKiller, engine_is_local
from flyte_backend_docker.images import ImageBuildError
from flyte_backend_docker.labels import (
    TASK_LABEL,
    labels_for,
    prune_dead,
    run_filters,
    run_labels,
)
from flyte_backend_docker.lending import POOL_DIR, Loan, WorkerFolders, forget, lend, reclaim, worker_folders
from flyte_backend_docker.netns import ControllerLine, SharedNetwork
from flyte_backend_docker.options import DockerOptions
from flyte_backend_docker.outcomes import (
    crashed,
    engine_gone,
    oom_killed,
    pool_failure,
    refused,
    start_refused,
    timed_out,
    with_action,
)
from flyte_backend_docker.pool import POOL_LABEL, Pool, PoolManager, PoolResult, Replica
from flyte_backend_docker.rawtask import execute_raw
from flyte_backend_docker.resources import container_limits, describe_memory
from flyte_backend_docker.sandbox import Sandbox, give
from flyte_backend_docker.secrets import SecretMounts
from flyte_core.extend import (
    ActionOutcome,
    ActionSpec,
    BackendRun,
    ChannelServer,
    FlyteUsageError,
    ImageBuilder,
    RawContainerTask,
    StoreView,
    WorkerSpec,
    flyte_home,
    image_builders,
    is_nested_function,
    local_store_path,
    make_bundle,
    outcome_from_json,
    read_outcome,
    secret_value,
    task_ref,
    worker_spec,
)

#: Inside containers, where the code bundle is unpacked.
CODE_DIR = "/flyte/code"
#: How long a container told to stop (abort, timeout) has to stop by itself before the engine kills it.
STOP_GRACE_SECONDS = 3.0
#: How long the removal of a container killed from this host waits for the engine to record its exit
#: (removing it sooner only queues behind that on the engine).
KILLED_EXIT_SECONDS = 30.0
#: How long the run's end waits for an engine that is away (restarting) to remove the run's containers.
ENGINE_RETURN_SECONDS = 30.0
log = logging.getLogger("flyte.docker")
TAIL_LINES = 20


class DockerBackend:
    """The ``docker`` backend. Options (config ``backends.docker`` or ``backend_options``):

    - ``base_image``: the image default images are built on (also ``$FLYTE_DOCKER_BASE_IMAGE``);
    - ``network``: the Docker network task containers join (default: the engine's default);
    - ``echo`` (default True): also print what containers print, as the local backends do;
    - ``keep_failed`` (default False): keep a failed attempt's container for debugging;
    - ``image_builder`` (default "docker"): which registered image builder builds task images;
    - ``cache_dir``: where the image builder keeps its wheelhouse (default ``~/.cache/flyte/docker``);
    - ``max_concurrent_actions``: how many task containers of a run run at once (default sized to
      the machine, see :func:`~flyte_backend_docker.engine.default_concurrency`; a run's
      ``flyte.with_runcontext(max_action_concurrency=N)`` takes precedence). Containers waiting for
      their children do not count;
    - ``security``: how containers are confined (``user``, ``read_only_root``,
      ``unrestricted_environments``; see :class:`~flyte_backend_docker.options.SecurityOptions`);
    - ``host_kill`` (default True): an abort kills the containers' processes from this host, without
      waiting for the engine, where it can (see :mod:`~flyte_backend_docker.hostkill`); False: the
      engine kills them;
    - ``standby`` (default True): when an environment's calls follow one another, the container of
      its next call starts before the call is made (docs/docker.md, "Standby containers"); False:
      each container starts when its call is made;
    - ``share_network`` (default False): every task container of the run joins one network
      namespace instead of getting its own, which is most of what starting a container costs the
      engine; the run's containers then share ``localhost`` and its ports (docs/docker.md, "A
      shared network namespace").
    """

    name = "docker"
    honours = frozenset({"timeout", "env_vars", "resources", "image", "secrets", "reusable"})

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.opts = DockerOptions.parse(options)
        self.echo = self.opts.echo
        self.keep_failed = self.opts.keep_failed
        self._client: docker.DockerClient | None = None
        self._run: BackendRun | None = None
        self._store = ""  # the run store's key, on every container (see BackendRun.store)
        self._server: ChannelServer | None = None
        self._builder: ImageBuilder | None = None  # the flyte_core.images.builder protocol
        self._bundle: str = "-"
        self._bundle_dir = CODE_DIR
        self._dir: str | None = None
        self._data_root: str | None = None
        self._sandbox = Sandbox.from_options(self.opts.security)
        self._view: StoreView | None = None  # what of a local store containers see (None: remote store)
        self._run_dir: str | None = None  # the run's folder in a local store
        self._recovered: tuple[str, ...] = ()  # the folders of the runs it recovers (read-only to tasks)
        self._live: dict[str, int] = {}
        self._secrets: SecretMounts | None = None
        self._pools: PoolManager | None = None
        self._workers: dict[str, WorkerFolders] = {}  # a warm worker's own writable folders
        self._tags: dict[str, asyncio.Future[str]] = {}  # image spec -> its tag, resolved once per run
        self._api = EngineCalls()
        self._watch: ExitWatch | None = None
        self._network: SharedNetwork | None = None  # the run's network namespace (option share_network)
        self._net_line: ControllerLine | None = None  # what its holder watches to stop with this process
        self._slots = Slots(self.opts.max_concurrent_actions or default_concurrency())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cleanups: set[asyncio.Future[None]] = set()  # removals of exited containers
        self._killed: set[asyncio.Future[int]] = set()  # exits of containers killed from here, not yet recorded
        self._killer = HostKiller(self.opts.host_kill and engine_is_local(os.environ.get("DOCKER_HOST")))

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start(self, run: BackendRun) -> None:
        """Connect to the engine, clean up leftovers of dead runs, ship the code, open the channel."""
        self._run = run
        self._store = run.store
        self._loop = asyncio.get_running_loop()
        if run.settings.max_action_concurrency:
            self._slots = Slots(run.settings.max_action_concurrency)
        self._client = await self._api(_connect)
        await self._api(prune_dead, self._client, run.store or None)  # only this store's: see BackendRun.store
        # One event stream follows every container of the run, opened before the first exists.
        self._watch = ExitWatch(_connect, run_filters(run.run_name, run.store or None)["label"], self._loop)
        await self._api(self._watch.start)
        store = run.conversion.store
        if store is None:
            raise FlyteUsageError("The docker backend needs a data store; configure storage.data.")
        self._data_root = _local_root(store.root)
        self._dir = tempfile.mkdtemp(prefix=f"flyte-{run.run_name}-")
        os.chmod(self._dir, 0o755)  # containers may run as another user than this process
        if self.opts.share_network:
            self._net_line = ControllerLine(os.path.join(self._dir, "network"))
            await self._net_line.start()
            _hand(self._sandbox.owner, self._net_line.folder, self._net_line.path)
            labels = run_labels(run.run_name, os.getpid(), socket.gethostname(), self._store)
            self._network = SharedNetwork(self._client, labels, self.opts.network, self._sandbox.settings(""),
                                          self._watch, self._net_line)
        self._secrets = SecretMounts(run, Path(self._dir))
        if self._data_root is not None:
            self._view = StoreView.of_run(self._data_root, run.settings.run_base_dir, run.settings.recovered_run_dirs)
        if self._view is not None:
            self._run_dir, self._recovered = self._view.run_dir, self._view.recovered
        self._server = ChannelServer(run.controller, is_running=lambda a, n: self._live.get(a) == n,
                                     code_root=run.settings.code_root, import_missing=False,
                                     on_waiting=self._on_waiting,
                                     outputs_for=self._view.outputs_for if self._view is not None else None)
        await self._server.start()
        # The channel's private folder and socket: for the containers' user only (and this process).
        _hand(self._sandbox.owner, os.path.dirname(self._server.path), self._server.path)
        builders = image_builders(run.plugins)
        self._builder = builders.get(self.opts.image_builder)(
            {"client": self._client, "base_image": self.opts.base_image,
             "cache_dir": self.opts.cache_dir, "log": self._build_log,
             "secret_value": lambda secret: secret_value(run.plugins, secret), "code_root": run.settings.code_root})
        # The stores may live inside the project: never ship them (nor local state) with the code.
        exclude = [store.root, run.settings.run_base_dir, str(flyte_home()), *run.settings.state_paths,
                   *(f"{p}-wal" for p in run.settings.state_paths), *(f"{p}-shm" for p in run.settings.state_paths)]
        self._bundle = await asyncio.to_thread(make_bundle, Path(run.settings.code_root), store, exclude=exclude)
        self._bundle_dir = f"{CODE_DIR}/{Path(self._bundle).name.split('.')[0][:16]}"
        self._pools = PoolManager(self._client, self._launch, self._line, self._worker_removed, self._bundle,
                                  self._bundle_dir, keep_failed=self.keep_failed, host_kill=self._killer,
                                  watch=self._watch)
        await self._pools.start()
        _hand(self._sandbox.owner, self._pools.dir, self._pools.path)

    async def execute(self, spec: ActionSpec) -> ActionOutcome:
        """Run one attempt in a fresh container, or on a warm one for a reusable environment, and wait
        for it (at most ``spec.timeout``)."""
        assert self._run is not None and self._client is not None and self._server is not None
        assert self._dir is not None and self._builder is not None and self._secrets is not None
        if spec.task is None:
            raise FlyteUsageError(f"Action {spec.action} has no task object to run.")
        # The attribute first: a protocol's isinstance costs ~10 µs, paid on every attempt otherwise.
        if hasattr(spec.task, "container_call") and isinstance(spec.task, RawContainerTask):
            return await execute_raw(self, spec, spec.task)
        if is_nested_function(spec.task):
            return refused(spec, f"it is defined inside a function ({spec.task.func.__qualname__}); a container "
                                  "can only import tasks defined at module level")
        tag = await self._tag(spec)
        ref = task_ref(spec.task, spec.code_root)
        writer = self._sandbox.writer(spec.task.env.name)
        ws = worker_spec(spec, task=ref, outcome_path="", conversion=self._run.conversion,
                         channel_path=self._server.path,
                         channel_token=self._server.token_for(spec.action, spec.attempt), code_root=self._bundle_dir)
        if spec.task.env.reusable is not None:
            if self._view is not None and self._view.refers(ws.inputs):  # plain inputs: no thread
                ws = attrs.evolve(ws, inputs=await asyncio.to_thread(self._view.literals, ws.inputs))
            return await self._execute_reused(spec, tag, ws, writer)
        standby = self._standby(spec, tag)
        await self._slots.acquire(spec.action)
        try:
            # Sequential: no other container of the run runs a call now (this one's slot is taken).
            sequential = self._slots.used <= 1
            if standby is not None and (replica := await standby.claim(spec.action, sequential)) is not None:
                if self._view is not None and self._view.refers(ws.inputs):
                    ws = attrs.evolve(ws, inputs=await asyncio.to_thread(self._view.literals, ws.inputs))
                return await self._execute_reused(spec, tag, ws, writer, replica)
            # The attempt's own private folder holds its spec (with its channel token) and its outcome.
            base = os.path.join(give(os.path.join(self._dir, f"{spec.action}-{spec.attempt}"), writer, 0o700),
                                "attempt")
            ws = attrs.evolve(ws, outcome_path=f"{base}.outcome.json")
            ws, writable = await asyncio.to_thread(self._placed, spec, ws, writer)
            ws.write(f"{base}.spec.json")
            try:
                return await self._execute_fresh(spec, tag, base, ws.outcome_path, writable)
            except requests.exceptions.ConnectionError as e:  # the engine went away between two calls
                return engine_gone(spec, EngineGone(
                    f"the Docker engine cannot be reached: it restarted or stopped ({e})"))
            finally:
                for folder in writable[:2]:  # its own folders, made for it; left alone once they hold something
                    with contextlib.suppress(OSError):
                        os.rmdir(folder)
        finally:
            if standby is not None:
                standby.ended(spec.action)
            self._slots.release(spec.action)

    def _standby(self, spec: ActionSpec, tag: str) -> Pool | None:
        """The standby pool of an attempt that gets a container of its own (option ``standby``), or
        None: a container holding a GPU is not started before it is needed."""
        assert self._pools is not None and spec.task is not None
        resources = spec.task.env.resources
        if not self.opts.standby or (resources is not None and resources.gpu):
            return None
        return self._pools.standby(spec, tag)

    def _placed(self, spec: ActionSpec, ws: WorkerSpec, writer: tuple[int, int] | None
                ) -> tuple[WorkerSpec, list[str]]:
        """``ws`` with its inputs made visible to the container (see :class:`~flyte_core.extend.StoreView`);
        and the store folders the attempt writes, created for ``writer``: its offloaded values, its
        action's folder (checkpoints, report), and the run's raw data folder (File, Dir and DataFrame
        data; shared by the run's actions, since a task may overwrite another's file by its path as in
        Flyte 2, ``File.from_existing_remote``)."""
        if self._view is None:
            return ws, []
        ws = attrs.evolve(ws, inputs=self._view.literals(ws.inputs))
        writable = self._view.mounts(spec.action, ws.data_prefix, ws.raw_data_path).writable
        return ws, [give(p, writer) for p in writable]  # its own two first (see execute)

    async def _execute_fresh(self, spec: ActionSpec, tag: str, base: str, outcome_path: str,
                             writable: list[str]) -> ActionOutcome:
        """Run one attempt in a container of its own; wait for its exit through the run's event watch."""
        assert self._client is not None and self._secrets is not None and self._watch is not None
        assert self._loop is not None and spec.task is not None
        env_name = spec.task.env.name
        env, secret_volumes = await asyncio.to_thread(self._secrets.prepare, spec, self._sandbox.writer(env_name))
        own = [os.path.dirname(base), *writable]  # its spec folder and its store folders
        volumes = {**self._volumes(secret_volumes), **{p: {"bind": p, "mode": "rw"} for p in own}}
        for folder in (self._run_dir, *self._recovered):
            if folder is not None:
                volumes[folder] = {"bind": folder, "mode": "ro"}
        resources = spec.task.env.resources
        self._live[spec.action] = spec.attempt
        cid = await self._api(
            self._create, tag, ["python", "-m", "flyte_backend_docker.worker", self._bundle, self._bundle_dir,
                                f"{base}.spec.json"],
            labels_for(spec, os.getpid(), socket.gethostname(), self._store), volumes,
            {**spec.env_vars, **env, "PYTHONUNBUFFERED": "1"}, container_limits(resources, spec.task_name),
            environment=env_name,
        )
        exit_code = self._watch.exited(cid)  # asked before it starts: its exit cannot be missed
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        pumped: asyncio.Future[None] = self._loop.create_future()
        pump = threading.Thread(target=self._pump, args=(cid, spec, tail, pumped), daemon=True,
                                name=f"flyte-docker-logs-{spec.action}")
        failed, running, exited, aborted = True, False, False, False
        started = time.monotonic()
        try:
            try:
                await self._api(self._start, cid)
            except docker.errors.APIError as e:
                refused = start_refused(spec, e)
                if refused is None:
                    raise
                return refused
            except asyncio.CancelledError:  # aborted while it started: it runs now
                running = aborted = True
                raise
            running = True
            pump.start()
            try:
                code = await asyncio.wait_for(asyncio.shield(exit_code), spec.timeout)
            except TimeoutError:
                return timed_out(spec)
            except EngineGone as e:
                return engine_gone(spec, e)
            except asyncio.CancelledError:
                aborted = True
                raise
            exited = True
            with contextlib.suppress(TimeoutError):  # the rest of its output, already on its way
                await asyncio.wait_for(asyncio.shield(pumped), 5)
            if os.path.exists(outcome_path):
                outcome = with_action(read_outcome(outcome_path), spec)
                failed = outcome.error is not None
                return outcome
            if self._watch.broke_since(started):  # it was stopped by the engine's restart, not by its task
                return engine_gone(spec, EngineGone("the Docker engine restarted while it ran and stopped it"))
            state = (await self._api(self._client.api.inspect_container, cid))["State"]
            if state.get("OOMKilled") or await self._watch.oom_killed(cid, code):
                return oom_killed(spec, describe_memory(resources), list(tail))
            return crashed(spec, code, list(tail))
        finally:
            self._live.pop(spec.action, None)  # from now on the channel refuses its requests
            stopping = running and not exited  # timed out or aborted: it still runs
            # Aborted: SIGKILL from this host when possible (hostkill.py), before anything else;
            # the engine, which handles kills one after another, only records the exit.
            killed = stopping and aborted and self._killer.kill(cid)
            if stopping:
                # Dropping its channel connections makes its worker exit at once (worker.py),
                # without waiting for the engine: on a busy engine, kills and exits of many
                # containers are processed one after another (see docs/docker.md).
                await asyncio.shield(self._release(spec.action))
            # Removing it is housekeeping nobody waits for (but the run's end). One killed here
            # is removed once the engine recorded its exit, and those of all killed with it (see
            # _dispose); one timed out, or aborted where it cannot be killed from here, has a grace
            # to stop by itself (its channel is dropped) before the engine kills it.
            if killed:
                self._killed.add(exit_code)
                exit_code.add_done_callback(self._killed.discard)
            removal = asyncio.ensure_future(self._dispose(cid, exit_code if stopping else None,
                                                          keep=failed and self.keep_failed, killed=killed))
            self._cleanups.add(removal)
            removal.add_done_callback(self._cleanups.discard)
            await self._end(spec, base)

    def execute_inline(self, spec: ActionSpec) -> ActionOutcome | None:
        """Never: every attempt runs in a container (its own, or a warm one of its pool)."""
        return None

    def blocked(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to lend: no task body waits in this process."""
        return contextlib.nullcontext()

    async def close(self) -> None:
        """Remove every container of the run, stop the channel, delete the run's temp dir."""
        await asyncio.gather(*list(self._cleanups), return_exceptions=True)
        if self._watch is not None:
            await self._api(self._watch.close)
            self._watch = None
        if self._pools is not None:
            await self._pools.close()
            self._pools = None
        if self._run_dir is not None:  # its warm workers' folders are gone with them
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(self._run_dir, POOL_DIR))
        if self._client is not None and self._run is not None:
            await self._remove_run(self._run.run_name)  # the network namespace's holder too
        self._network = None
        if self._net_line is not None:
            await self._net_line.close()
            self._net_line = None
        if self._server is not None:
            await self._server.close()
            self._server = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        if self._client is not None:
            self._client.close()
            self._client = None
        self._killer.close()
        self._api.close()

    # --- reusable containers -----------------------------------------------------------------------

    async def _execute_reused(self, spec: ActionSpec, tag: str, ws: WorkerSpec,
                              writer: tuple[int, int] | None, standby: Replica | None = None) -> ActionOutcome:
        """Run one attempt on a warm container of its environment's pool (or on ``standby``, a container
        of its own started before it was needed). Its spec and outcome travel on the pool's control
        connection (an outcome too long for it comes back through a file in the worker's own folder).
        Its store folders are lent to the worker while it runs, each only once the worker asks for
        it before writing there (see ``lending``): most attempts write neither."""
        assert self._pools is not None and self._watch is not None
        self._live[spec.action] = spec.attempt
        started = time.monotonic()
        loans: list[Loan] = []
        outcome_path, chosen = "", ""
        prefix = local_store_path(ws.data_prefix)  # None: a remote store, nothing to lend
        local = self._run_dir is not None and prefix is not None

        def place(worker: str) -> dict[str, Any]:
            """Called once a worker is chosen: the attempt's spec for it."""
            nonlocal outcome_path, chosen
            chosen = worker
            outcome_path = os.path.join(self._workers[worker].specs, f"{spec.action}-{spec.attempt}.outcome.json")
            return {**ws.to_json(), "outcome_path": outcome_path}

        def borrow(folder: str) -> None:
            """Lend the attempt's ``data`` folder (its offloaded values) or its ``action`` folder
            (checkpoints, report) to its worker, which asked before writing there."""
            folders = self._workers[chosen]
            assert self._run_dir is not None and folders.data is not None and prefix is not None
            path = prefix if folder == "data" else os.path.join(self._run_dir, spec.action)
            if all(loan.place != path for loan in loans):  # asked again (by another thread): lent already
                loans.extend(lend([path], folders, self._run_dir, writer))

        try:
            try:
                result = await self._pools.execute(spec, tag, place, borrow if local else None, standby)
            except requests.exceptions.ConnectionError as e:  # the engine went away between two calls
                return engine_gone(spec, EngineGone(
                    f"the Docker engine cannot be reached: it restarted or stopped ({e})"))
            # A few renames and links of local folders: cheaper here than a hop to a thread.
            reclaim(loans)
            loans.clear()
            if result.kind == "done" and result.outcome is not None:
                return with_action(outcome_from_json(result.outcome), spec)
            if result.kind == "done" and os.path.lexists(outcome_path):
                try:  # in the worker's folder: a regular file it wrote, never a link it planted
                    if stat.S_ISREG(os.lstat(outcome_path).st_mode):
                        return with_action(read_outcome(outcome_path), spec)
                finally:
                    os.unlink(outcome_path)
            if result.kind == "done":  # said so, but no outcome came, or not as a file it wrote
                result = PoolResult("exit", code=1, tail=(*result.tail, "(its outcome was missing or not a file)"))
            if result.kind in ("lost", "failed") and self._watch.broke_since(started):
                # Its replica was stopped (or could not start) because the engine restarted.
                kind = "container" if standby is not None else "reusable container"
                return engine_gone(spec, EngineGone(f"the Docker engine restarted while it ran and stopped its {kind}"))
            return pool_failure(spec, result, reusable=standby is None)
        finally:
            if loans:  # ended abnormally (aborted): the folders go back all the same
                reclaim(loans)
            await self._end(spec, None)

    def _worker_removed(self, worker: str) -> None:
        """A warm worker's container is gone: its secrets and its own folders go too."""
        assert self._secrets is not None
        self._secrets.release(worker)
        folders = self._workers.pop(worker, None)
        if folders is not None:
            forget(folders)

    async def _launch(self, spec: ActionSpec, tag: str, worker: str, command: list[str]) -> str:
        """Create and start a pool's worker container with the settings of ``spec``'s environment."""
        assert self._client is not None and self._secrets is not None and self._pools is not None
        assert spec.task is not None
        # Secrets are delivered per container; keyed by the worker, released when it is removed.
        env_name = spec.task.env.name
        writer = self._sandbox.writer(env_name)
        env, secret_volumes = await asyncio.to_thread(self._secrets.prepare, attrs.evolve(spec, action=worker), writer)
        volumes = self._volumes(secret_volumes)
        # A replica runs any attempt of its environment in the run, so its mounts cannot be any one
        # attempt's: it reads the run's folder (read-only) and writes only folders of its own, where
        # each attempt's files and store folders are put while it runs (see ``lending``), and the
        # run's raw data folder, as every task container does.
        assert self._dir is not None
        folders = self._workers[worker] = await asyncio.to_thread(worker_folders, self._dir, self._run_dir, worker,
                                                                  writer)
        volumes[self._pools.dir] = {"bind": self._pools.dir, "mode": "rw"}
        volumes[folders.specs] = {"bind": folders.specs, "mode": "rw"}
        if self._run_dir is not None and folders.data is not None:
            volumes[self._run_dir] = {"bind": self._run_dir, "mode": "ro"}
            volumes[folders.data] = {"bind": folders.data, "mode": "rw"}
            raw = local_store_path(spec.context.raw_data_path)
            if raw is not None:
                volumes[raw] = {"bind": give(raw, writer), "mode": "rw"}
        for folder in self._recovered:
            volumes[folder] = {"bind": folder, "mode": "ro"}
        labels = {**run_labels(spec.run_name, os.getpid(), socket.gethostname(), self._store),
                  POOL_LABEL: spec.task.env.name, TASK_LABEL: spec.task_name}
        cid = await self._api(self._create, tag, command, labels, volumes,
                              {**spec.env_vars, **env, "PYTHONUNBUFFERED": "1"},
                              container_limits(spec.task.env.resources, spec.task_name), environment=env_name)
        try:
            await self._api(self._start, cid)
        except BaseException:
            await asyncio.shield(self._remove(cid, keep=False))
            raise
        return cid

    # --- internals ---------------------------------------------------------------------------------

    async def _tag(self, spec: ActionSpec) -> str:
        """The local tag of an environment's image; resolved (and built if needed) once per run, by
        one call however many actions need it at once."""
        assert self._builder is not None and spec.task is not None
        image = spec.task.env.image_spec
        key = repr(image)
        fut = self._tags.get(key)
        if fut is None:
            fut = self._tags[key] = asyncio.ensure_future(self._resolve_image(image))
        try:
            return await asyncio.shield(fut)
        except ImageBuildError as e:
            raise ImageBuildError(f"Task '{spec.task_name}' (environment '{spec.task.env.name}') cannot run: "
                                  f"{e}") from None

    async def _resolve_image(self, image: Any) -> str:
        assert self._builder is not None
        tag = await asyncio.to_thread(self._builder.ensure, image)
        self._build_log(f"image ready: {tag}")  # ends the build status under the progress tree
        return tag

    def _on_waiting(self, action: str, waiting: bool) -> None:
        """The channel's news: ``action`` waits for its children (its slot is theirs meanwhile)."""
        self._slots.waiting(action, waiting)
        if self._pools is not None:
            self._pools.on_waiting(action, waiting)

    def _volumes(self, secret_volumes: dict[str, Any]) -> dict[str, Any]:
        """Bind mounts of every task container: the channel, the code bundle (read-only) and its
        secrets; the caller adds its data store folders."""
        assert self._dir is not None and self._server is not None
        channel_dir = os.path.dirname(self._server.path)
        volumes = {channel_dir: {"bind": channel_dir, "mode": "rw"}, **secret_volumes}
        bundle = local_store_path(self._bundle) if self._bundle != "-" else None
        if bundle is not None and self._data_root is not None:
            volumes[bundle] = {"bind": bundle, "mode": "ro"}
        return volumes

    def _create(self, image: str, command: list[str], labels: dict[str, str], volumes: dict[str, Any],
                env: dict[str, str], limits: dict[str, Any], working_dir: str | None = "",
                environment: str = "", task_image: bool = True) -> str:
        """Create (not start) a container of the task environment named ``environment``, confined
        as the run's :class:`~flyte_backend_docker.sandbox.Sandbox` says; on the run's shared
        network namespace with ``share_network`` (``task_image``: the image has Python, so it may
        start the namespace's holder)."""
        assert self._client is not None
        workdir = self._bundle_dir if working_dir == "" else working_dir
        confined = self._sandbox.settings(environment, (workdir,) if workdir else ())
        if self._dir is not None:  # a root driver's run folders under /root (see Sandbox.passages)
            volumes = {**volumes, **self._sandbox.passages(environment, (v["bind"] for v in volumes.values()),
                                                           os.path.join(self._dir, "passages"))}
        network = self._network.mode(image if task_image else None) if self._network is not None else None
        host_config = self._client.api.create_host_config(
            binds=volumes, network_mode=network or self.opts.network,
            **{k: v for k, v in limits.items()}, **confined["host"],
        )
        created = self._client.api.create_container(image, command=command, labels=labels,
                                                    environment=self._sandbox.environment(environment, env),
                                                    host_config=host_config, working_dir=workdir,
                                                    user=confined.get("user"))
        return str(created["Id"])

    def _pump(self, cid: str, spec: ActionSpec, tail: deque[str], done: asyncio.Future[None]) -> None:
        """Forward a container's output to the run's logs, line by line per stream (in its own
        thread; a stream per container is the engine's only way to follow output live)."""
        try:
            self._pump_lines(cid, spec, tail)
        finally:
            assert self._loop is not None
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                self._loop.call_soon_threadsafe(_resolve, done)

    def _pump_lines(self, cid: str, spec: ActionSpec, tail: deque[str]) -> None:
        assert self._client is not None and self._run is not None
        parts = {"stdout": b"", "stderr": b""}
        try:
            for out, err in self._client.api.attach(cid, stdout=True, stderr=True, stream=True, logs=True,
                                                    demux=True):
                for name, chunk in (("stdout", out), ("stderr", err)):
                    if chunk:
                        *lines, parts[name] = (parts[name] + chunk).split(b"\n")
                        for line in lines:
                            self._emit(spec, name, line, tail)
        except (docker.errors.APIError, requests.exceptions.RequestException):
            pass  # the container went away (removed on abort), or the engine did: its output ends here
        for name, rest in parts.items():
            if rest:
                self._emit(spec, name, rest, tail)

    def _emit(self, spec: ActionSpec, stream: str, raw: bytes, tail: deque[str]) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        tail.append(text)
        self._line(spec, stream, text)

    def _line(self, spec: ActionSpec, stream: str, text: str) -> None:
        """Record one line an attempt printed (and echo it)."""
        assert self._run is not None
        self._run.log(spec.action, spec.attempt, stream, text)
        if self.echo:
            with contextlib.suppress(Exception):
                (sys.stdout if stream == "stdout" else sys.stderr).write(text + "\n")

    def _build_log(self, line: str) -> None:
        if self._run is not None:
            self._run.log("a0", 0, "build", line)

    def _start(self, cid: str) -> None:
        """Start a container (on an API thread) and hold its main process to abort it directly
        (:mod:`~flyte_backend_docker.hostkill`), when the engine runs on this machine."""
        assert self._client is not None
        self._client.api.start(cid)
        if self._killer.enabled:
            with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException,
                                     KeyError, TypeError, ValueError):
                self._killer.track(cid, int(self._client.api.inspect_container(cid)["State"]["Pid"]))

    async def _kill(self, cid: str) -> None:
        """Stop a running container now (SIGKILL: an aborted or timed-out attempt gets no grace)."""
        assert self._client is not None
        # It already ended, or is gone; or the engine is too busy to answer in time: it stops by
        # itself anyway once its channel is dropped, and the run's end removes it.
        with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
            await self._api(self._client.api.kill, cid)

    async def _dispose(self, cid: str, stopping: asyncio.Future[int] | None, keep: bool, killed: bool = False) -> None:
        """Remove an attempt's container once it ended; ``stopping``: the exit of one told to stop,
        waited for at most :data:`STOP_GRACE_SECONDS` before the engine kills it. One ``killed`` from
        this host waits (at most :data:`KILLED_EXIT_SECONDS`) until the engine recorded the exits of
        every container killed with it: removals before that only slow the engine down."""
        try:
            if stopping is not None:
                waits = {stopping, *self._killed} if killed else {stopping}
                done, _ = await asyncio.wait(waits, timeout=KILLED_EXIT_SECONDS if killed else STOP_GRACE_SECONDS)
                for fut in done:  # retrieved: an engine that went away is the run's end's to report
                    if not fut.cancelled():
                        fut.exception()
        finally:
            if self._watch is not None:
                self._watch.forget(cid)
            self._killer.forget(cid)
        await self._remove(cid, keep)

    async def _remove(self, cid: str, keep: bool) -> None:
        """Remove an attempt's container (or with ``keep``, only make sure it is stopped)."""
        assert self._client is not None
        if keep:
            await self._kill(cid)
            return
        # Gone already; or the engine is away: the run's end (or the next command) removes it.
        with contextlib.suppress(docker.errors.NotFound, requests.exceptions.ConnectionError):
            await self._api(self._client.api.remove_container, cid, force=True, v=True)

    async def _remove_run(self, run: str) -> None:
        """Remove every container of ``run`` still there, in parallel; an engine that is away (it
        restarts) is waited for a while, then its leftovers are the next command's to clean up."""
        assert self._client is not None
        deadline = time.monotonic() + ENGINE_RETURN_SECONDS
        while True:
            try:
                found = await self._api(self._client.api.containers, all=True,
                                        filters=run_filters(run, self._store or None))
                break
            except requests.exceptions.ConnectionError as e:
                if time.monotonic() > deadline:
                    log.warning("Could not remove the containers of run %s: the Docker engine cannot be reached (%s). "
                                "The next flyte command (or `flyte docker prune`) removes them.", run, e)
                    return
                await asyncio.sleep(0.5)
        doomed = [c["Id"] for c in found if not (self.keep_failed and c["State"] == "exited")]

        async def remove(cid: str) -> None:
            with contextlib.suppress(docker.errors.APIError):
                await self._api(self._client.api.remove_container, cid, force=True, v=True)  # type: ignore[union-attr]

        await asyncio.gather(*(remove(cid) for cid in doomed))

    async def _release(self, action: str) -> None:
        if self._server is not None:
            await self._server.release(action)

    async def _end(self, spec: ActionSpec, base: str | None) -> None:
        """Forget an ended attempt: its channel connections (and so the children it started), its
        secret files and its spec and outcome files; before a retry of the action can start, since
        the first two are keyed by the action."""
        self._live.pop(spec.action, None)
        if self._server is not None:
            await asyncio.shield(self._server.release(spec.action))
        if self._secrets is not None:
            self._secrets.release(spec.action)
        if base is not None:
            shutil.rmtree(os.path.dirname(base), ignore_errors=True)


#: Connection pools of a client: docker-py keeps one per URL (and so per container) and closes the
#: least recently used beyond this many, which breaks a call in flight on it ("'NoneType' object has
#: no attribute 'qsize'") once more containers than its default 25 are handled at once.
NUM_POOLS = 4096


def _widen_pools(client: docker.DockerClient) -> None:
    """Keep :data:`NUM_POOLS` connection pools instead of 25 (docker-py 7 ignores ``num_pools`` for
    unix sockets, so the adapter's pool cache is replaced as its constructor builds it)."""
    from urllib3._collections import RecentlyUsedContainer

    adapter = getattr(client.api, "_custom_adapter", None)
    if adapter is not None and isinstance(getattr(adapter, "pools", None), RecentlyUsedContainer):
        adapter.pools = RecentlyUsedContainer(NUM_POOLS, dispose_func=lambda p: p.close())


def _connect() -> docker.DockerClient:
    try:
        client = docker.from_env()
        _widen_pools(client)
        client.ping()
    except docker.errors.DockerException as e:
        raise FlyteUsageError(
            f"The docker backend cannot reach a Docker engine ({e}); start Docker or set DOCKER_HOST."
        ) from None
    return client


def _hand(owner: tuple[int, int], *paths: str) -> None:
    """Give paths this process made (a private folder and the socket in it) to the containers'
    user, so they can connect; nothing changes when that is this process."""
    if owner != (os.geteuid(), os.getegid()):
        for path in paths:
            os.chown(path, *owner)


def _local_root(root: str) -> str | None:
    """The host folder to mount for a local data store, None for a remote one; refuse memory://."""
    if root.startswith("memory://"):
        raise FlyteUsageError(
            f"The data store {root} lives in this process's memory, which containers cannot reach; "
            "configure storage.data as a folder or an s3://, gs://, ... URL."
        )
    if root.startswith("file://"):
        return root[len("file://"):]
    return None if "://" in root else root


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
