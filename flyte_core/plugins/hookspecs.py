"""Every hook a flyte-core plugin can implement.

A plugin is a module or object with functions named after these specs, decorated with
:data:`hookimpl`, registered through the entry-point group ``flyte``. The hooks a plugin
implements say what it contributes; ``flyte plugins`` lists them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Mapping

    import click

    from flyte_core.images.builder import ImageBuilderRegistry
    from flyte_core.run.backend_registry import BackendRegistry
    from flyte_core.run.events import ActionEvent, RunEvent
    from flyte_core.run.launcher import LauncherRegistry
    from flyte_core.run.observers import RunObserver
    from flyte_core.runstore.records import RunRecord
    from flyte_core.security.secrets import Secret
    from flyte_core.task.kinds import TaskKindRegistry
    from flyte_core.types.transformer import TypeTransformer

PROJECT = "flyte"

#: Decorator marking a function as a hook specification (for the core only).
hookspec = pluggy.HookspecMarker(PROJECT)
#: Decorator plugin authors put on their hook implementations.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def flyte_register_backends(registry: BackendRegistry) -> None:
    """Add backends by name: ``registry.add("docker", DockerBackendFactory)``.

    Called once per plugin manager, when a session first needs its backend registry.

    :param registry: the session's backend registry; a duplicate name is an error naming both plugins.
    """


@hookspec
def flyte_register_launchers(registry: LauncherRegistry) -> None:
    """Add launchers by backend name: ``registry.add("kubernetes", launcher)``, for backends whose
    runs are driven away from the process that starts them (and outlive it).

    Called once per plugin manager, when a session first needs its launcher registry: when
    ``flyte run`` picks how to start a run, or a command reads a run a launcher started.

    :param registry: the session's launcher registry; a duplicate name is an error naming both plugins.
    """


@hookspec
def flyte_register_image_builders(registry: ImageBuilderRegistry) -> None:
    """Add image builders by name: ``registry.add("docker", factory)``, where ``factory(options)``
    returns an object whose ``ensure(image)`` builds (or finds) a ``flyte.Image`` and returns the
    reference to run.

    Called by a container backend when a run starts, to pick the builder named by its
    ``image_builder`` option (default "docker").

    :param registry: the image-builder registry; a duplicate name is an error naming both plugins.
    """


@hookspec(firstresult=True)
def flyte_type_transformer(python_type: Any, hint: Any) -> TypeTransformer | None:
    """Return the transformer that converts values of ``python_type``, or None.

    Called by the type engine the first time it meets a type hint, with ``python_type`` set to the
    hint's exact class, then each class of its MRO, then its generic origin (``list`` for
    ``list[int]``); the answer is cached per hint.

    :param python_type: the key being looked up (a class, or a typing origin such as ``typing.Union``).
    :param hint: the full type hint being resolved (e.g. ``list[int]``, ``Annotated[...]``).

    Stops at first non-None result.
    """


@hookspec
def flyte_register_task_kinds(registry: TaskKindRegistry) -> None:
    """Add task kinds: ``registry.add(ConfigType, runner)`` runs tasks whose ``plugin_config`` is
    an instance of ``ConfigType`` through ``runner`` instead of calling the function directly.

    Called once per session, when it builds its task-kind registry (at the start of its first run).

    :param registry: the session's task-kind registry.
    """


@hookspec
def flyte_add_cli_commands(cli: click.Group) -> None:
    """Add commands to the ``flyte`` command line (``cli.add_command(...)``).

    Called once when the ``flyte`` command starts, after the built-in commands are added.

    :param cli: the top-level click group.
    """


@hookspec(firstresult=True)
def flyte_secret_value(secret: Secret) -> str | None:
    """Return the value of ``secret``, or None if this provider does not have it.

    Called by a backend when it starts an action of a task that requests ``secret``. The core's
    providers (the environment, then the local store of ``flyte secrets``) run last, so a plugin
    (Vault, a cloud secret manager) is asked first.

    :param secret: the requested secret (``key``, ``group``, and how the task wants it delivered).

    Stops at first non-None result.
    """


@hookspec(firstresult=True)
def flyte_progress_observer(console: Any) -> RunObserver | None:
    """Return an observer that shows a run's progress on ``console`` (a ``rich.console.Console``).

    Called by the ``flyte run`` command (never by the library itself) right before a run starts,
    in the thread that starts it; the observer may start drawing at once. ``flyte run`` closes it
    however the run ends.

    :param console: where to draw.

    Stops at first non-None result.
    """


@hookspec
def flyte_run_event(event: RunEvent) -> None:
    """A run started or ended.

    Called by the controller's event thread, in order, for every run of every session that has this
    plugin loaded; keep it fast.

    :param event: the run, its phase and, when it ended, its error.
    """


@hookspec
def flyte_action_event(event: ActionEvent) -> None:
    """An action changed phase (queued, running, retrying, succeeded, failed, aborted, ...).

    Called by the controller's event thread, in order per action, after the change is recorded in
    the run store; keep it fast.

    :param event: the action, its new phase, attempt and timing.
    """


@hookspec
def flyte_run_interrupted(run: RunRecord, options: Mapping[str, Any], store: str) -> str | None:
    """The controller of ``run`` died (kill -9, OOM, a lost machine): the first command that reads
    the run from its store has just recorded it as interrupted. Stop and remove whatever of the
    run is still yours (containers, pods) and say what you removed.

    Called in the process of that command; return None when nothing of the run was yours.

    :param run: the run, as just recorded (phase interrupted; ``run.backend`` names its backend).
    :param options: the options of that backend from this command's config (namespace, context...).
    :param store: the run store's key (``BackendRun.store``): remove only what carries it, since
        another store may have a run of the same name.
    :return: one line for ``flyte runs show``, e.g. ``"removed 6 containers of run r1 (docker)"``.
    """
