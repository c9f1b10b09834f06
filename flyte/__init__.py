"""Flyte 2's public API, served by flyte-core. Re-exports only: the logic lives in ``flyte_core``.

``import flyte`` has no side effects; plugins load when a session is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flyte_core import __version__

if TYPE_CHECKING:  # what every name below is, for type checkers; at run time each is imported on first use
    from flyte import errors
    from flyte_core.api.build import ImageBuild, build, build_images
    from flyte_core.api.platform import (
        Link,
        current_domain,
        current_project,
        deploy,
        init_from_api_key,
        init_in_cluster,
        init_passthrough,
        is_control_plane_available,
        rerun,
        system_logger,
    )
    from flyte_core.api.runs import current_session, init, init_from_config, run, with_runcontext
    from flyte_core.images.spec import Image
    from flyte_core.run.handle import ActionOutputs, Run
    from flyte_core.run.session import Session
    from flyte_core.runstore.records import Phase as ActionPhase
    from flyte_core.runtime.checkpoint import BaseCheckpoint, Checkpoint, latest_checkpoint
    from flyte_core.runtime.context import ActionID, TaskContext, custom_context, get_custom_context
    from flyte_core.runtime.context import public as ctx
    from flyte_core.runtime.group import group
    from flyte_core.runtime.logs import logger
    from flyte_core.runtime.trace import trace
    from flyte_core.security.secretspec import Secret, SecretRequest
    from flyte_core.task.cachepolicy import CachePolicy
    from flyte_core.task.devices import AMD_GPU, APPLE_SILICON, GPU, HABANA_GAUDI, TPU, Device, DeviceClass, Neuron
    from flyte_core.task.environment import TaskEnvironment
    from flyte_core.task.mapping import map
    from flyte_core.task.settings import (
        Backoff,
        Cache,
        CacheRequest,
        Documentation,
        PodTemplate,
        Resources,
        RetryStrategy,
        ReusePolicy,
        Timeout,
        TimeoutType,
    )
    from flyte_core.task.template import TaskTemplate
    from flyte_core.task.triggers import (
        Cron,
        FixedRate,
        OnArtifact,
        Trigger,
        TriggeredArtifact,
        TriggeredPartition,
        TriggerTime,
    )

    Environment = TaskEnvironment
    AsyncFunctionTaskTemplate = TaskTemplate

#: Flyte 2's names for core names (``Environment``; ``AsyncFunctionTaskTemplate``, Flyte 2's class of async
#: tasks: here one class serves sync and async tasks alike).
_RENAMED = {
    "Environment": ("flyte_core.task.environment", "TaskEnvironment"),
    "AsyncFunctionTaskTemplate": ("flyte_core.task.template", "TaskTemplate"),
    "ActionPhase": ("flyte_core.runstore.records", "Phase"), "ctx": ("flyte_core.runtime.context", "public"),
}


# Defining tasks needs only the task model: the rest (contexts, images, triggers, checkpoints, logging, ...)
# is imported when a name is first used, so `import flyte` costs little more than Python's own start.
_CORE = {
    "flyte_core.api.platform": ("Link", "current_domain", "current_project", "deploy", "init_from_api_key",
                                "init_in_cluster", "init_passthrough", "is_control_plane_available", "rerun",
                                "system_logger"),
    "flyte_core.images.spec": ("Image",),
    "flyte_core.runtime.checkpoint": ("BaseCheckpoint", "Checkpoint", "latest_checkpoint"),
    "flyte_core.runtime.context": ("ActionID", "TaskContext", "custom_context", "get_custom_context"),
    "flyte_core.runtime.group": ("group",), "flyte_core.runtime.logs": ("logger",),
    "flyte_core.runtime.trace": ("trace",), "flyte_core.security.secretspec": ("Secret", "SecretRequest"),
    "flyte_core.task.cachepolicy": ("CachePolicy",),
    "flyte_core.task.devices": ("AMD_GPU", "APPLE_SILICON", "GPU", "HABANA_GAUDI", "TPU", "Device", "DeviceClass",
                                "Neuron"),
    "flyte_core.task.environment": ("TaskEnvironment",), "flyte_core.task.mapping": ("map",),
    "flyte_core.task.settings": ("Backoff", "Cache", "CacheRequest", "Documentation", "PodTemplate", "Resources",
                                 "RetryStrategy", "ReusePolicy", "Timeout", "TimeoutType"),
    "flyte_core.task.template": ("TaskTemplate",),
    "flyte_core.task.triggers": ("Cron", "FixedRate", "OnArtifact", "Trigger", "TriggeredArtifact",
                                 "TriggeredPartition", "TriggerTime"),
}

# Running needs the session machinery (run store, controller, cattrs, ...): imported on first use,
# so task code that only defines tasks — and every worker process or container — starts faster.
_LAZY = {
    "run": "flyte_core.api.runs", "init": "flyte_core.api.runs", "init_from_config": "flyte_core.api.runs",
    "with_runcontext": "flyte_core.api.runs", "current_session": "flyte_core.api.runs",
    "Run": "flyte_core.run.handle", "ActionOutputs": "flyte_core.run.handle", "Session": "flyte_core.run.session",
    "ImageBuild": "flyte_core.api.build", "build": "flyte_core.api.build", "build_images": "flyte_core.api.build",
}


_LAZY.update({name: module for module, names in _CORE.items() for name in names})

# Apps (flyte.serve, with_servecontext) come from the flyte-apps plugin, imported on first use.
_LAZY.update({"serve": "flyte_apps.serve", "with_servecontext": "flyte_apps.serve", "AppHandle": "flyte_apps.serve"})


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module = _LAZY[name]
        try:
            value = getattr(importlib.import_module(module), name)
        except ModuleNotFoundError as e:
            if not e.name or not (module == e.name or module.startswith(e.name + ".")):
                raise  # something the plugin itself imports is missing: its own message says what
            # A name a plugin provides, without the plugin installed: say which package brings it.
            dist = module.partition(".")[0].replace("_", "-")
            raise ImportError(f"flyte.{name} comes from the {dist} plugin, which is not installed; "
                              f"pip install {dist} (from a flyte-core checkout: pip install -e plugins/"
                              f"{dist.removeprefix('flyte-')}).") from None
        globals()[name] = value
        return value
    if name in _RENAMED:
        import importlib

        module, attr = _RENAMED[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name == "errors":  # the flyte.errors submodule (importing it sets the attribute too)
        import importlib

        return importlib.import_module("flyte.errors")
    # flyte.File and flyte.Directory, as the seed lists them, come from the files type plugin.
    if name == "report":  # flyte.report without importing it first, as in Flyte 2
        import importlib

        return importlib.import_module("flyte.report")
    if name in ("File", "Directory", "Dir"):
        from flyte import io

        return io.File if name == "File" else io.Dir
    raise AttributeError(f"module 'flyte' has no attribute '{name}'")


def __dir__() -> list[str]:
    """Every public name, loaded or not (as with eager imports)."""
    return sorted(set(globals()) | set(__all__) | {"errors"})


def version() -> str:
    """The installed flyte-core version."""
    return __version__


__all__ = [
    "BaseCheckpoint", "Checkpoint", "latest_checkpoint",
    "ActionID", "ActionOutputs", "ActionPhase", "Backoff", "Cache", "CacheRequest", "Documentation",
    "Environment", "Image", "PodTemplate", "Resources", "RetryStrategy", "ReusePolicy", "Run", "Secret",
    "SecretRequest", "Session", "TaskContext", "TaskEnvironment", "TaskTemplate", "Timeout", "TimeoutType",
    "__version__", "ctx", "current_session", "custom_context", "errors", "get_custom_context", "group", "init",
    "init_from_config", "logger", "map", "run", "trace", "version", "with_runcontext",
    "AMD_GPU", "APPLE_SILICON", "AsyncFunctionTaskTemplate", "CachePolicy", "Device", "DeviceClass", "GPU",
    "HABANA_GAUDI", "ImageBuild", "Link", "Neuron", "TPU", "build", "build_images", "current_domain",
    "current_project", "deploy", "init_from_api_key", "init_in_cluster", "init_passthrough",
    "is_control_plane_available", "rerun", "system_logger",
]

# Triggers (models in the core; `flyte triggers run` in the flyte-triggers plugin fires them).
__all__ += ["Cron", "FixedRate", "OnArtifact", "Trigger", "TriggerTime", "TriggeredArtifact", "TriggeredPartition"]
# Apps, served as local processes by the flyte-apps plugin.
__all__ += ["AppHandle", "serve", "with_servecontext"]
