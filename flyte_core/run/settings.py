"""Run-wide settings (from ``flyte.with_runcontext`` and config) and the check of which task
settings a backend leaves unhonoured."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from flyte_core.plugins.manager import PluginRefs
from flyte_core.task.rawcontainer import RawContainerTask

if TYPE_CHECKING:
    from flyte_core.task.template import TaskTemplate


log = logging.getLogger("flyte")


@attrs.frozen
class RunSettings:
    """Settings that apply to every action of a run."""

    code_root: str
    raw_data_path: str
    run_base_dir: str
    env_vars: Mapping[str, str] = attrs.field(factory=dict)
    custom_context: Mapping[str, str] = attrs.field(factory=dict)
    labels: Mapping[str, str] = attrs.field(factory=dict)
    overwrite_cache: bool = False
    max_action_concurrency: int | None = None
    #: Local state files (the run store) a backend must never ship with the code.
    state_paths: tuple[str, ...] = ()
    #: ``with_runcontext(version=...)``: what ``flyte.ctx().version`` says (else each task's own).
    version: str | None = None
    #: When the run started (UTC), for ``flyte.ctx().run_start_time``.
    started_at: datetime | None = None
    #: ``with_runcontext(disable_run_cache=True)``: the cache is neither read nor written.
    disable_run_cache: bool = False
    #: Base folders of the runs this one recovers, newest first (their checkpoints are found there).
    recovered_run_dirs: tuple[str, ...] = ()
    #: The session's plugins as a worker loads them again (task kinds, type transformers).
    plugins: PluginRefs = attrs.field(factory=PluginRefs)


def used_settings(task: TaskTemplate[Any, Any]) -> Iterator[str]:
    """Names of the settings ``task`` (or its environment) actually sets."""
    env = task.env
    if env.resources is not None:
        yield "resources"
    if env.secrets:
        yield "secrets"
    if env.env_vars:
        yield "env_vars"
    if env.image not in (None, "auto"):
        yield "image"
    if env.reusable is not None:
        yield "reusable"
    if task.pod_template is not None:
        yield "pod_template"
    if task.plugin_config is not None:
        yield "plugin_config"
    if task.cache.is_enabled():
        yield "cache"
    if task.retries.count:
        yield "retries"
    if task.timeout is not None:
        yield "timeout"
    if task.report:
        yield "report"
    if env.interruptible:
        yield "interruptible"
    yield from (k for k in task.extra if k not in ("interruptible",))


def unhonoured_settings(task: TaskTemplate[Any, Any], honours: frozenset[str]) -> list[str]:
    """Settings ``task`` uses that a backend honouring ``honours`` would ignore."""
    # Retries and caching are applied by the controller itself, whatever the backend; triggers start runs.
    # plugin_config: the task-kind plugin that handles it runs the task on every backend (or it fails clearly).
    always = {"retries", "cache", "triggers", "plugin_config"}
    if isinstance(task, RawContainerTask):  # it runs its image itself, on every backend that runs it
        always.add("image")
    return [s for s in used_settings(task) if s not in honours and s not in always]


class UnhonouredNotices:
    """Says once per task and setting that the backend does not act on a setting the task uses
    (a warning in the log and an entry in :attr:`notices`); each task is checked once per run."""

    def __init__(self, backend: str, honours: frozenset[str]) -> None:
        self.backend = backend
        self.honours = honours
        self.notices: list[str] = []
        # The task objects checked, by id (an override is a new object); held so no id is reused.
        self._checked: dict[int, TaskTemplate[Any, Any]] = {}

    def check(self, task: TaskTemplate[Any, Any]) -> None:
        """Note the settings of ``task`` the backend ignores, unless this task was checked already."""
        if id(task) in self._checked:
            return
        self._checked[id(task)] = task
        said = set(self.notices)
        for setting in unhonoured_settings(task, self.honours):
            msg = (f"Task '{task.name}' sets '{setting}', which the '{self.backend}' backend "
                   "does not act on; it is recorded but has no effect here.")
            if msg not in said:
                self.notices.append(msg)
                log.warning(msg)

