"""Task templates: what ``@env.task`` turns a function into."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

import attrs

from flyte_core.errors.core import TaskDefinitionError
from flyte_core.runtime.current import CURRENT
from flyte_core.task.settings import (
    Cache,
    CacheRequest,
    RetryStrategy,
    Timeout,
    TimeoutType,
    to_cache,
    to_retries,
    to_timeout,
)
from flyte_core.types.interface import NativeInterface

if TYPE_CHECKING:
    from flyte_core.task.environment import TaskEnvironment

P = ParamSpec("P")
R = TypeVar("R")


#: Settings :meth:`TaskTemplate.override` changes on (a copy of) the task's environment.
ENV_OVERRIDES = ("resources", "env_vars", "secrets", "reusable", "service_account", "interruptible", "queue")
#: Other Flyte 2 ``override`` parameters, kept in ``TaskTemplate.extra`` and reported when no backend acts on them.
OVERRIDE_EXTRA = frozenset({
    "entrypoint", "produces_artifacts", "links", "triggers", "task_resolver", "debuggable", "task_type",
    "task_type_version",
})


@attrs.frozen
class TaskRef:
    """How another process finds this task again: module, attribute name, and (for tasks loaded
    from a file) the file's path relative to the code root."""

    module: str
    name: str
    file: str | None = None


@attrs.define(eq=False, slots=False)
class TaskTemplate(Generic[P, R]):
    """A task: a typed function plus how it must run (its environment, cache, retries, timeout).

    Outside a run, calling it calls the function. Inside a run, calling it starts a child action:
    a sync task returns its value, an async task returns an awaitable.
    """

    func: Callable[P, R]
    env: TaskEnvironment
    name: str
    short_name: str
    interface: NativeInterface
    is_async: bool
    cache: Cache
    retries: RetryStrategy
    timeout: Timeout | None
    report: bool = False
    docs: str | None = None
    pod_template: Any = None
    max_inline_io_bytes: int = 10 * 1024 * 1024
    plugin_config: Any = None
    #: Parameters given that no backend acts on yet; reported once per run.
    extra: dict[str, Any] = attrs.field(factory=dict)
    #: What :meth:`override` changed, as given (merged over chained overrides): how a worker names
    #: an overridden task to the host (see :func:`flyte_core.worker.channel_client.task_overrides`).
    overrides: dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        functools.update_wrapper(self, self.func)

    @property
    def ref(self) -> TaskRef:
        """Where another process imports this task from."""
        return TaskRef(self.func.__module__, self.func.__name__)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        ctx = CURRENT.get()
        if ctx is None or ctx.dispatcher is None:
            return self.func(*args, **kwargs)
        if self.is_async:
            return ctx.dispatcher.call_async(self, args, kwargs)  # type: ignore[return-value]
        return ctx.dispatcher.call_sync(self, args, kwargs)  # type: ignore[no-any-return]

    async def aio(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Call the task from async code, whether the task itself is sync or async."""
        ctx = CURRENT.get()
        if ctx is None or ctx.dispatcher is None:
            result = self.func(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result
        return await ctx.dispatcher.call_async(self, args, kwargs)

    def override(self, **changes: Any) -> TaskTemplate[P, R]:
        """A copy of this task with some settings changed, as Flyte 2's ``override``: the task's own
        (short_name, cache, retries, timeout, max_inline_io_bytes, pod_template, plugin_config,
        report) and its environment's (resources, env_vars, secrets, reusable (``"off"``
        turns reuse off), service_account, interruptible, queue), which then apply to this copy
        only. ``name``, ``image``, ``docs`` and ``interface`` cannot be overridden (ValueError); a reusable
        task's resources, env_vars, secrets and service_account neither (turn reuse off first); an
        unknown keyword is a TypeError, as in Flyte 2."""
        for fixed in ("name", "image", "docs", "interface", "func", "env", "is_async"):
            if fixed in changes:
                hint = " (use a TaskEnvironment with that image, e.g. env.clone_with(...))" if fixed == "image" else ""
                raise ValueError(f"Task '{self.name}': {fixed} cannot be overridden{hint}.")
        conv: dict[str, Callable[[Any], Any]] = {"cache": to_cache, "retries": to_retries, "timeout": to_timeout}
        known = {f.name for f in attrs.fields(type(self))} - {"extra", "overrides"}
        updates: dict[str, Any] = {}
        env_changes: dict[str, Any] = {}
        extra = dict(self.extra)
        for key, value in changes.items():
            if key in ENV_OVERRIDES:
                if value is not None:
                    env_changes[key] = None if key == "reusable" and value == "off" else value
            elif key in conv:
                updates[key] = conv[key](value)
            elif key in known:
                updates[key] = value
            elif key in OVERRIDE_EXTRA:
                if value is not None and value != ():  # Flyte 2's "no change"
                    extra[key] = value
            else:
                raise TypeError(f"Task '{self.name}': override() got an unexpected keyword argument '{key}'")
        reusable = env_changes.get("reusable", self.env.reusable)
        if reusable is not None:
            clash = [k for k in ("resources", "env_vars", "secrets", "service_account") if k in env_changes]
            if clash:
                raise ValueError(f"Task '{self.name}' is reusable: its {', '.join(clash)} are its environment's and "
                                 "cannot be overridden; override reusable='off' as well to change them.")
        if env_changes:
            updates["env"] = attrs.evolve(self.env, **env_changes)
        return attrs.evolve(self, extra=extra, overrides={**self.overrides, **changes}, **updates)

    def forward(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function directly, bypassing Flyte (Flyte 2's escape hatch)."""
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Task {self.name}>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        """A module-level task (or an ``override(...)`` copy of one) pickles as a reference: its module, its
        name and the settings the copy changed. The receiving process uses its own task of that name, as
        its workers find tasks, instead of a by-value copy of the function and its whole environment.
        A task that is not a module attribute pickles as an ordinary object."""
        module = self.func.__module__
        base = getattr(sys.modules.get(module), self.func.__name__, None)
        if not isinstance(base, TaskTemplate) or base.func is not self.func:
            return super().__reduce_ex__(protocol)
        fixed = ("func", "env", "interface", "is_async", "name")
        changes = {f.name: getattr(self, f.name) for f in attrs.fields(type(self))
                   if f.name not in fixed and getattr(self, f.name) != getattr(base, f.name)}
        # A worker loads a script under the alias "__mp_main__" and also registers it as "__main__".
        return (task_by_reference, ("__main__" if module == "__mp_main__" else module, self.func.__name__, changes))


def task_by_reference(module: str, name: str, changes: dict[str, Any]) -> TaskTemplate[Any, Any]:
    """The task ``name`` of ``module`` (imported if it is not loaded yet), with ``changes`` applied; how
    a pickled task is rebuilt (see ``TaskTemplate.__reduce_ex__``)."""
    import importlib
    import pickle  # both deferred: unpickling a task is rare, defining one is not

    mod = sys.modules.get(module) or importlib.import_module(module)
    task = getattr(mod, name, None)
    if not isinstance(task, TaskTemplate):
        raise pickle.UnpicklingError(f"module '{module}' has no task named '{name}' here, so a task passed as a "
                                     "value cannot be rebuilt; define it at module level of an importable module")
    return attrs.evolve(task, **changes) if changes else task


def make_task(
    func: Callable[..., Any],
    env: TaskEnvironment,
    *,
    short_name: str | None = None,
    cache: CacheRequest | None = None,
    retries: int | RetryStrategy = 0,
    timeout: TimeoutType | None = None,
    report: bool = False,
    docs: Any = None,
    pod_template: Any = None,
    max_inline_io_bytes: int = 10 * 1024 * 1024,
    plugin_config: Any = None,
    extra: dict[str, Any] | None = None,
) -> TaskTemplate[Any, Any]:
    """Build a task from ``func``; a missing type hint is a :class:`TaskDefinitionError` now."""
    if not callable(func) or inspect.isclass(func):
        raise TaskDefinitionError(f"@{env.name}.task needs a function, got {func!r}.")
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise TaskDefinitionError(f"Task '{func.__qualname__}' is a generator; tasks must return a value.")
    name = f"{env.name}.{func.__name__}"
    iface = NativeInterface.from_function(func, name)
    return TaskTemplate(
        func=func,
        env=env,
        name=name,
        short_name=short_name or func.__name__,
        interface=iface,
        is_async=inspect.iscoroutinefunction(func),
        cache=to_cache(cache if cache is not None else env.cache),
        retries=to_retries(retries),
        timeout=to_timeout(timeout),
        report=report,
        docs=docs if isinstance(docs, str) or docs is None else str(docs),
        pod_template=pod_template if pod_template is not None else env.pod_template,
        max_inline_io_bytes=max_inline_io_bytes,
        plugin_config=plugin_config if plugin_config is not None else env.plugin_config,
        extra=extra or {},
    )


AsyncFn = Callable[..., Coroutine[Any, Any, Any]]
