"""The module-level convenience API (``flyte.init``, ``flyte.run``, ``flyte.with_runcontext``)
over an explicit :class:`~flyte_core.run.session.Session`.

The default session is the one global here; embedders that need several create sessions
themselves and never touch it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from flyte_core.api import compat_kwargs
from flyte_core.errors.core import InitializationError
from flyte_core.run.handle import Run
from flyte_core.run.session import RunOptions, Session
from flyte_core.runtime.syncify import SyncAio
from flyte_core.task.template import TaskTemplate

if TYPE_CHECKING:
    from flyte_core.run.observers import RunObserver

T = TypeVar("T")

_default: Session | None = None
_default_lock = threading.Lock()


def _init(
    *,
    backend: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    config: str | os.PathLike[str] | None = None,
    root_dir: str | os.PathLike[str] | None = None,
    storage: Any = None,
    run_store: str | None = None,
    log_level: int | None = None,
    **flyte2: Any,
) -> Session:
    """Set up the default session (Flyte 2's ``flyte.init``). Flyte 2's control-plane parameters
    (``endpoint``, ``project``, ...) are accepted with a notice that they have no effect here
    (``Session.notices``); an unknown keyword is a TypeError."""
    global _default
    notices = compat_kwargs.check("init", flyte2, compat_kwargs.INIT)
    if storage is not None and not isinstance(storage, str):
        from flyte_core.storage.config import Storage, configure  # only for a flyte.storage object

        if not isinstance(storage, Storage):
            raise TypeError(f"init(storage=...) takes a data store URL or a flyte.storage object, got {storage!r}.")
        configure(storage)  # flyte.storage.S3(...) etc.: settings for that store, not a data URL
        storage = None
    session = Session(config=config, backend=backend, backend_options=backend_options, data_url=storage,
                      run_store=run_store, root_dir=root_dir)
    session.notices.extend(notices)
    if log_level is not None:
        import logging

        logging.getLogger("flyte").setLevel(log_level)
    with _default_lock:
        old, _default = _default, session
    if old is not None:
        old.close()
    return session


def _init_from_config(
    path_or_config: str | os.PathLike[str] | None = None,
    root_dir: str | os.PathLike[str] | None = None,
    log_level: int | None = None,
    storage: str | None = None,
    **kwargs: Any,
) -> Session:
    """Set up the default session from a YAML config file (or the documented search order);
    Flyte 2's other parameters are accepted as :func:`init` accepts them."""
    compat_kwargs.check("init_from_config", kwargs, compat_kwargs.INIT_FROM_CONFIG)
    return _init(config=path_or_config, root_dir=root_dir, log_level=log_level, storage=storage, **kwargs)


init = SyncAio(_init)
init_from_config = SyncAio(_init_from_config)


def current_session() -> Session:
    """The default session, created with local defaults on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Session()
        return _default


def is_initialized() -> bool:
    """Whether the default session is set up (``flyte.init``, or a first run that created it)."""
    return _default is not None


def reset() -> None:
    """Forget the default session (tests and long-lived embedders)."""
    global _default
    with _default_lock:
        old, _default = _default, None
    if old is not None:
        old.close()


class Runner:
    """What ``flyte.with_runcontext(...)`` returns: ``.run(task, ...)`` with those settings."""

    def __init__(self, options: RunOptions, session: Session | None = None) -> None:
        self.options = options
        self._session = session
        self.run = SyncAio(self._run)

    def _run(self, task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> Run:
        session = self._session or current_session()
        return session.run_with(self.options, task, args, kwargs)


def with_runcontext(
    mode: str | None = None,
    *,
    name: str | None = None,
    backend: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    env_vars: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    custom_context: Mapping[str, str] | None = None,
    overwrite_cache: bool = False,
    raw_data_path: str | None = None,
    max_action_concurrency: int | None = None,
    observers: tuple[RunObserver, ...] = (),
    recover: str | None = None,
    session: Session | None = None,
    version: str | None = None,
    disable_run_cache: bool = False,
    run_start_time: datetime | None = None,
    **flyte2: Any,
) -> Runner:
    """Per-run settings (Flyte 2's ``flyte.with_runcontext``) plus ``backend=`` to pick where the
    run executes. ``mode="local"`` means the local backend; ``disable_run_cache=True`` neither
    reads nor writes the cache; ``version`` is what ``flyte.ctx().version`` says. Flyte 2's
    remote-only parameters (``project``, ``domain``, ``copy_style``, ...) are accepted, each noted
    on the run (``Run.notices``) as having no effect; an unknown keyword is a TypeError.
    ``recover="RUN"`` re-runs a failed or interrupted run, reusing every action that succeeded."""
    notices = compat_kwargs.check("with_runcontext", flyte2, compat_kwargs.WITH_RUNCONTEXT)
    if mode not in (None, "local", "remote", "hybrid"):
        raise ValueError(f"mode must be 'local', 'remote' or 'hybrid', got {mode!r}")
    if max_action_concurrency is not None and (max_action_concurrency == 1 or max_action_concurrency < 0):
        raise ValueError("max_action_concurrency must be 0 or >= 2")
    if mode == "local" and backend is None:
        backend = "local"
    opts = RunOptions(
        backend=backend, backend_options=dict(backend_options or {}), name=name,
        env_vars=dict(env_vars or {}), labels=dict(labels or {}),
        custom_context={k: str(v) for k, v in (custom_context or {}).items()},
        overwrite_cache=overwrite_cache, raw_data_path=raw_data_path,
        max_action_concurrency=max_action_concurrency, observers=tuple(observers), recover=recover,
        version=version, disable_run_cache=disable_run_cache, notices=tuple(notices), started_at=run_start_time,
    )
    return Runner(opts, session)


def _run(task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> Run:
    """Run ``task`` in a new run on the default session and wait for it."""
    return current_session().run(task, *args, **kwargs)


run = SyncAio(_run)


def require_session() -> Session:
    """The default session, or an :class:`InitializationError` if ``flyte.init`` was never called."""
    if _default is None:
        raise InitializationError("NotInitialized", "user", "Call flyte.init() first.")
    return _default
