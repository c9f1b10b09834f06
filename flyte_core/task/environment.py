"""``flyte.TaskEnvironment``: shared settings for a group of tasks, and the ``@env.task`` decorator."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

import attrs

from flyte_core.task.settings import CacheRequest, Resources, RetryStrategy, ReusePolicy, TimeoutType
from flyte_core.task.template import TaskTemplate, make_task

if TYPE_CHECKING:  # images and triggers are imported where used: defining tasks needs neither
    from flyte_core.images.spec import Image
    from flyte_core.security.secretspec import SecretRequest

_NAME_RE = re.compile(r"^[a-z0-9]+([_-][a-z0-9]+)*$")

# Decorator parameters a backend may or may not act on; kept on the task and reported if ignored.
_PASSTHROUGH = ("interruptible", "queue", "service_account", "triggers", "links", "entrypoint",
                "task_resolver", "produces_artifacts")


@attrs.define(eq=False)
class TaskEnvironment:
    """Settings shared by the tasks it decorates: image, resources, env vars, secrets, cache, reuse.

    ``name`` must be snake or kebab case; it prefixes every task name (``env.func``).
    """

    name: str
    depends_on: list[TaskEnvironment] = attrs.field(factory=list)
    pod_template: Any = None
    description: str | None = None
    secrets: SecretRequest | None = None
    env_vars: dict[str, str] | None = None
    resources: Resources | None = None
    interruptible: bool = False
    image: str | Image | None = "auto"
    include: tuple[str, ...] = ()
    service_account: str | None = None
    cache: CacheRequest = "disable"
    reusable: ReusePolicy | None = None
    plugin_config: Any = None
    queue: str | None = None
    _tasks: dict[str, TaskTemplate[Any, Any]] = attrs.field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ValueError(
                f"TaskEnvironment name {self.name!r} must be snake_case or kebab-case "
                "(lower-case letters, digits, '_' or '-')."
            )
        if self.resources is not None and not isinstance(self.resources, Resources):
            raise TypeError(f"TaskEnvironment '{self.name}': resources must be flyte.Resources(...)")
        if self.reusable is not None and not isinstance(self.reusable, ReusePolicy):
            raise TypeError(f"TaskEnvironment '{self.name}': reusable must be flyte.ReusePolicy(...)")
        if isinstance(self.include, str):
            raise TypeError(f"TaskEnvironment '{self.name}': include must be a tuple of paths, not a str")
        if self.env_vars is not None and not isinstance(self.env_vars, dict):
            raise TypeError(f"TaskEnvironment '{self.name}': env_vars must be a dict[str, str]")

    @property
    def tasks(self) -> dict[str, TaskTemplate[Any, Any]]:
        """The tasks declared in this environment, by full name."""
        return dict(self._tasks)

    @property
    def image_spec(self) -> Image | None:
        """The environment's image as an :class:`Image` (``"auto"`` is the default Debian image)."""
        from flyte_core.images.spec import Image

        if self.image is None or self.image == "auto":
            return Image.from_debian_base()
        if isinstance(self.image, str):
            return Image.from_base(self.image)
        return self.image

    def add_dependency(self, *envs: TaskEnvironment) -> None:
        """Declare that tasks here call tasks of ``envs``."""
        for e in envs:
            if not isinstance(e, TaskEnvironment):
                raise TypeError(f"add_dependency takes TaskEnvironments, got {e!r}")
            if e is self:
                raise ValueError(f"TaskEnvironment '{self.name}' cannot depend on itself")
            self.depends_on.append(e)

    def clone_with(self, name: str, **changes: Any) -> TaskEnvironment:
        """A new environment named ``name`` with some settings replaced."""
        fields = {f.name for f in attrs.fields(TaskEnvironment) if f.init}
        unknown = set(changes) - fields
        if unknown:
            raise TypeError(f"clone_with got unknown settings: {', '.join(sorted(unknown))}")
        current = {f: getattr(self, f) for f in fields}
        current.update({k: v for k, v in changes.items() if v is not None}, name=name)
        return TaskEnvironment(**current)

    @classmethod
    def from_task(cls, name: str, *tasks: TaskTemplate[Any, Any],
                  depends_on: list[TaskEnvironment] | None = None) -> TaskEnvironment:
        """An environment holding ``tasks`` made elsewhere (e.g. ``flyte.extras.ContainerTask``), so other
        environments can list it in ``depends_on``; the tasks must share one image (or have none)."""
        for t in tasks:
            if t.name in t.env._tasks:
                raise ValueError(f"Task '{t.name}' already belongs to environment '{t.env.name}'; tasks cannot be "
                                 "assigned to multiple environments.")
        images = {repr(t.env.image) for t in tasks}
        if len(images) > 1:
            raise ValueError("Tasks must have the same image to be in the same environment.")
        env = cls(name, image=tasks[0].env.image if tasks else "auto", depends_on=list(depends_on or []))
        for t in tasks:
            t.env = env
            env._tasks[t.name] = t
        return env

    @overload
    def task(self, _func: Callable[..., Any], /) -> TaskTemplate[Any, Any]: ...

    @overload
    def task(
        self,
        _func: None = None,
        /,
        *,
        short_name: str | None = None,
        cache: CacheRequest | None = None,
        retries: int | RetryStrategy = 0,
        timeout: TimeoutType | None = 0,
        docs: Any = None,
        pod_template: Any = None,
        report: bool = False,
        max_inline_io_bytes: int = 10 * 1024 * 1024,
        **kwargs: Any,
    ) -> Callable[[Callable[..., Any]], TaskTemplate[Any, Any]]: ...

    def task(
        self,
        _func: Callable[..., Any] | None = None,
        /,
        *,
        short_name: str | None = None,
        cache: CacheRequest | None = None,
        retries: int | RetryStrategy = 0,
        timeout: TimeoutType | None = 0,
        docs: Any = None,
        pod_template: Any = None,
        report: bool = False,
        max_inline_io_bytes: int = 10 * 1024 * 1024,
        **kwargs: Any,
    ) -> Any:
        """Turn a function into a task of this environment; usable bare or with arguments."""
        unknown = set(kwargs) - set(_PASSTHROUGH)
        if unknown:
            raise TypeError(f"@{self.name}.task got unknown parameters: {', '.join(sorted(unknown))}")

        def decorate(func: Callable[..., Any]) -> TaskTemplate[Any, Any]:
            t = make_task(
                func, self, short_name=short_name, cache=cache, retries=retries, timeout=timeout,
                report=report, docs=docs, pod_template=pod_template,
                max_inline_io_bytes=max_inline_io_bytes, extra={k: v for k, v in kwargs.items() if v},
            )
            if "triggers" in kwargs:
                from flyte_core.task.triggers import check_task_triggers

                check_task_triggers(t)
            self._tasks[t.name] = t
            return t

        return decorate(_func) if _func is not None else decorate
