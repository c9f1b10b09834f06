"""The plugin API of flyte-core: the one module a plugin imports from the core.

A flyte-core plugin is a distribution with an entry point in the group ``flyte`` naming a module
(or object) whose functions carry :data:`hookimpl`; ``flyte_core.hookspecs`` documents every hook.
Everything a plugin needs from the core is importable from here, and only from here is it
supported: the core's other modules are laid out for its own needs and change without notice.
``flyte_core.testing`` holds what a plugin's tests need (fixtures, a hook recorder, the backend
and type conformance suites); the public ``flyte`` package is what task code imports.

What is here, by kind of plugin (``__all__`` lists every name; each keeps its own docstring):

Hooks and plugins
    :data:`hookimpl` marks hook implementations. :class:`PluginSet` is a session's plugin manager
    (``session.plugins``; ``BackendRun.plugins``): call hooks as ``plugins.hook.flyte_...(...)``.
Backends (``flyte_register_backends``)
    A backend implements the :class:`Backend` protocol and is registered as a
    :data:`BackendFactory`. Per run it gets a :class:`BackendRun` (settings, type engine, data
    store, log sink, controller, task kinds, plugins), then one :class:`ActionSpec` per attempt,
    and returns an :class:`ActionOutcome`. In-process backends run the body with
    :func:`run_task_sync` / :func:`run_task_async` and route what it prints with
    :func:`capture_output`, :func:`output_sink` and :class:`LineSink`.
Worker host (backends running task bodies in other processes, containers, pods)
    :func:`worker_spec` turns an :class:`ActionSpec` into a :class:`WorkerSpec` file; the worker
    runs ``python -m flyte_core.entrypoint SPEC`` (or :func:`worker_main` / :func:`run_worker_attempt`
    in a process of the backend's own) and writes the outcome (:func:`write_outcome`), which the
    backend reads back with :func:`read_outcome`. Nested task calls of worker bodies reach the run's
    controller (``BackendRun.controller``, a :class:`RunController`) through a :class:`ChannelServer`
    the backend starts. Workers load the session's plugins too (the installed ones, and those the
    session named when they are importable), so task kinds and type plugins act the same there.
Launchers (``flyte_register_launchers``)
    A :class:`Launcher` starts runs driven away from this process from a :class:`LaunchRequest`.
Image builders (``flyte_register_image_builders``)
    An :class:`ImageBuilder` turns an :class:`Image` into a reference a container runs; container
    backends find builders with :func:`image_builders`.
Secret providers (``flyte_secret_value``)
    Answer for a :class:`Secret`; backends resolve values with :func:`secret_value` /
    :func:`secret_env` (plugins first, then :func:`default_secret_value`).
Type plugins (``flyte_type_transformer``)
    Return a :class:`TypeTransformer` converting values to and from literals with a
    :class:`ConversionContext` (which holds the run's :class:`DataStore`).
Task kinds (``flyte_register_task_kinds``)
    ``registry.add(ConfigType, runner)`` on a :class:`TaskKindRegistry` runs tasks whose
    ``plugin_config`` is a ``ConfigType`` through a :data:`TaskKindRunner`, on every backend.
Observers (``flyte_run_event``, ``flyte_action_event``, ``flyte_progress_observer``)
    Receive :class:`RunEvent` / :class:`ActionEvent`; a :class:`RunObserver` follows one run.
Reading runs
    :class:`Session`, :class:`Run`, and the :class:`RunStore` of :class:`RunRecord`,
    :class:`ActionRecord`, :class:`LogLine` and :class:`Phase`.
Configuration and names
    :func:`structure` reads a plugin's options into an attrs class with clear errors (validators
    :func:`at_least`, :func:`one_of`, :class:`Invalid`); :func:`check_name` / :func:`inside` keep
    user-given names out of paths they must not reach.
Errors
    Raise :class:`FlyteUsageError` for anything the user must fix (it names what and how).
Flyte 2 names
    ``flyte.extend``'s :class:`TaskTemplate`, :class:`AsyncFunctionTaskTemplate` and
    :class:`ImageBuilder` are here under those names.

Names are imported on first use, so a plugin module that imports a few of them (every worker
process loads the installed plugins) does not pay for the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte_core.api import current_session as current_session
    from flyte_core.backend import ActionOutcome as ActionOutcome
    from flyte_core.backend import ActionSpec as ActionSpec
    from flyte_core.backend import Backend as Backend
    from flyte_core.backend import BackendFactory as BackendFactory
    from flyte_core.backend import BackendRegistry as BackendRegistry
    from flyte_core.backend import BackendRun as BackendRun
    from flyte_core.backend import RunController as RunController
    from flyte_core.channel import MAX_SOCKET_PATH as CHANNEL_PATH_LIMIT
    from flyte_core.channel import ChannelServer as ChannelServer
    from flyte_core.channel_client import is_nested_function as is_nested_function
    from flyte_core.channel_client import task_ref as task_ref
    from flyte_core.channel_client import tell_finished as tell_finished
    from flyte_core.channel_client import watch_controller as watch_controller
    from flyte_core.cli.common import CliState as CliState
    from flyte_core.cli.common import fail_usage as fail_usage
    from flyte_core.config import Config as Config
    from flyte_core.config import flyte_home as flyte_home
    from flyte_core.configschema import ConfigValueError as ConfigValueError
    from flyte_core.configschema import Invalid as Invalid
    from flyte_core.configschema import at_least as at_least
    from flyte_core.configschema import one_of as one_of
    from flyte_core.configschema import structure as structure
    from flyte_core.context import ActionID as ActionID
    from flyte_core.context import TaskContext as TaskContext
    from flyte_core.context import current as current_context
    from flyte_core.datastore import DataStore as DataStore
    from flyte_core.devices import to_device as to_device
    from flyte_core.entrypoint import SCHEMA_VERSION as WORKER_SCHEMA_VERSION
    from flyte_core.entrypoint import WorkerSpec as WorkerSpec
    from flyte_core.entrypoint import exit_code as worker_exit_code
    from flyte_core.entrypoint import find_task as find_task
    from flyte_core.entrypoint import flush_output as flush_worker_output
    from flyte_core.entrypoint import main as worker_main
    from flyte_core.entrypoint import read_outcome as read_outcome
    from flyte_core.entrypoint import run as run_worker_attempt
    from flyte_core.entrypoint import worker_spec as worker_spec
    from flyte_core.entrypoint import write_outcome as write_outcome
    from flyte_core.environment import TaskEnvironment as TaskEnvironment
    from flyte_core.errors import BaseRuntimeError as BaseRuntimeError
    from flyte_core.errors import CodeLoadError as CodeLoadError
    from flyte_core.errors import ConfigError as ConfigError
    from flyte_core.errors import FlyteUsageError as FlyteUsageError
    from flyte_core.errors import PluginError as PluginError
    from flyte_core.errors import RuntimeUserError as RuntimeUserError
    from flyte_core.errors import TaskInputError as TaskInputError
    from flyte_core.errors import TaskTimeoutError as TaskTimeoutError
    from flyte_core.errors import TypeTransformerError as TypeTransformerError
    from flyte_core.events import ActionEvent as ActionEvent
    from flyte_core.events import RunEvent as RunEvent
    from flyte_core.hookspecs import hookimpl as hookimpl
    from flyte_core.image import Image as Image
    from flyte_core.image import Layer as Layer
    from flyte_core.image_layers import PythonWheels as PythonWheels
    from flyte_core.image_layers import is_own_wheels as is_own_wheels
    from flyte_core.image_layers import read_script_metadata as read_script_metadata
    from flyte_core.image_layers import requirement_name as requirement_name
    from flyte_core.image_layers import secrets_of as secrets_of
    from flyte_core.imagebuilder import ImageBuilder as ImageBuilder
    from flyte_core.imagebuilder import ImageBuilderFactory as ImageBuilderFactory
    from flyte_core.imagebuilder import ImageBuilderRegistry as ImageBuilderRegistry
    from flyte_core.imagebuilder import image_builders as image_builders
    from flyte_core.interface import OUTPUT_NAME as OUTPUT_NAME
    from flyte_core.interface import Input as Input
    from flyte_core.interface import NativeInterface as NativeInterface
    from flyte_core.interface import type_name as type_name
    from flyte_core.launcher import LAUNCHER_LABEL as LAUNCHER_LABEL
    from flyte_core.launcher import Launcher as Launcher
    from flyte_core.launcher import LauncherRegistry as LauncherRegistry
    from flyte_core.launcher import LaunchRequest as LaunchRequest
    from flyte_core.liveness import controller_alive as controller_alive
    from flyte_core.loader import load_file as load_file
    from flyte_core.loader import tasks_in as tasks_in
    from flyte_core.logcapture import LineSink as LineSink
    from flyte_core.logcapture import installed as capture_output
    from flyte_core.logcapture import sink as output_sink
    from flyte_core.models import Cache as Cache
    from flyte_core.models import Resources as Resources
    from flyte_core.models import ReusePolicy as ReusePolicy
    from flyte_core.models import Secret as Secret
    from flyte_core.models import to_cache as to_cache
    from flyte_core.models import to_retries as to_retries
    from flyte_core.models import to_secrets as to_secrets
    from flyte_core.models import to_timeout as to_timeout
    from flyte_core.names import NAME_RULE as NAME_RULE
    from flyte_core.names import check_name as check_name
    from flyte_core.names import inside as inside
    from flyte_core.names import optional_name as optional_name
    from flyte_core.observers import RunObserver as RunObserver
    from flyte_core.platform_errors import AppleSiliconNotAvailableError as AppleSiliconNotAvailableError
    from flyte_core.plugins import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
    from flyte_core.plugins import PluginFailure as PluginFailure
    from flyte_core.plugins import PluginInfo as PluginInfo
    from flyte_core.plugins import PluginSet as PluginSet
    from flyte_core.rawcontainer import ContainerCall as ContainerCall
    from flyte_core.rawcontainer import RawContainerTask as RawContainerTask
    from flyte_core.report import REPORT_FILE as REPORT_FILE
    from flyte_core.report import report_url as report_url
    from flyte_core.run import Run as Run
    from flyte_core.runstore.records import ActionRecord as ActionRecord
    from flyte_core.runstore.records import ErrorInfo as ErrorInfo
    from flyte_core.runstore.records import LogLine as LogLine
    from flyte_core.runstore.records import Phase as Phase
    from flyte_core.runstore.records import RunRecord as RunRecord
    from flyte_core.runstore.sqlite import SQLiteRunStore as SQLiteRunStore
    from flyte_core.runstore.store import RunStore as RunStore
    from flyte_core.runtime import error_info as error_info
    from flyte_core.runtime import run_async as run_task_async
    from flyte_core.runtime import run_sync as run_task_sync
    from flyte_core.secrets import LocalSecretStore as LocalSecretStore
    from flyte_core.secrets import env_name as env_name
    from flyte_core.secrets import flyte_secret_value as default_secret_value
    from flyte_core.secrets import how_to_set as how_to_set
    from flyte_core.secrets import secret_env as secret_env
    from flyte_core.secrets import secret_id as secret_id
    from flyte_core.secrets import secret_value as secret_value
    from flyte_core.session import RunOptions as RunOptions
    from flyte_core.session import Session as Session
    from flyte_core.settings import RunSettings as RunSettings
    from flyte_core.task import TaskRef as TaskRef
    from flyte_core.task import TaskTemplate as AsyncFunctionTaskTemplate
    from flyte_core.task import TaskTemplate as TaskTemplate
    from flyte_core.taskkinds import TaskKindRegistry as TaskKindRegistry
    from flyte_core.taskkinds import TaskKindRunner as TaskKindRunner
    from flyte_core.triggers import Cron as Cron
    from flyte_core.triggers import FixedRate as FixedRate
    from flyte_core.triggers import Trigger as Trigger
    from flyte_core.triggers import TriggerTime as TriggerTime
    from flyte_core.triggers import task_triggers as task_triggers
    from flyte_core.types.builtins import PickleFallbackWarning as PickleFallbackWarning
    from flyte_core.types.common import mismatch as mismatch
    from flyte_core.types.engine import TypeEngine as TypeEngine
    from flyte_core.types.transformer import ConversionContext as ConversionContext
    from flyte_core.types.transformer import Converter as Converter
    from flyte_core.types.transformer import TypeTransformer as TypeTransformer
    from flyte_core.workerenv import worker_environment as worker_environment

#: Where each name lives: (module, attribute). Read on first use by :func:`__getattr__`.
_WHERE: dict[str, tuple[str, str]] = {
    # Hooks and plugins
    "hookimpl": ("flyte_core.hookspecs", "hookimpl"),
    "PluginSet": ("flyte_core.plugins", "PluginSet"),
    "PluginInfo": ("flyte_core.plugins", "PluginInfo"),
    "PluginFailure": ("flyte_core.plugins", "PluginFailure"),
    "ENTRY_POINT_GROUP": ("flyte_core.plugins", "ENTRY_POINT_GROUP"),
    # Backends
    "Backend": ("flyte_core.backend", "Backend"),
    "BackendFactory": ("flyte_core.backend", "BackendFactory"),
    "BackendRegistry": ("flyte_core.backend", "BackendRegistry"),
    "BackendRun": ("flyte_core.backend", "BackendRun"),
    "RunController": ("flyte_core.backend", "RunController"),
    "ActionSpec": ("flyte_core.backend", "ActionSpec"),
    "ActionOutcome": ("flyte_core.backend", "ActionOutcome"),
    "RunSettings": ("flyte_core.settings", "RunSettings"),
    "TaskKindRegistry": ("flyte_core.taskkinds", "TaskKindRegistry"),
    "TaskKindRunner": ("flyte_core.taskkinds", "TaskKindRunner"),
    "TaskContext": ("flyte_core.context", "TaskContext"),
    "ActionID": ("flyte_core.context", "ActionID"),
    "current_context": ("flyte_core.context", "current"),
    "run_task_sync": ("flyte_core.runtime", "run_sync"),
    "run_task_async": ("flyte_core.runtime", "run_async"),
    "error_info": ("flyte_core.runtime", "error_info"),
    "LineSink": ("flyte_core.logcapture", "LineSink"),
    "capture_output": ("flyte_core.logcapture", "installed"),
    "output_sink": ("flyte_core.logcapture", "sink"),
    "worker_environment": ("flyte_core.workerenv", "worker_environment"),
    "controller_alive": ("flyte_core.liveness", "controller_alive"),
    "to_device": ("flyte_core.devices", "to_device"),
    "RawContainerTask": ("flyte_core.rawcontainer", "RawContainerTask"),
    "ContainerCall": ("flyte_core.rawcontainer", "ContainerCall"),
    # Worker host (out-of-process backends)
    "WorkerSpec": ("flyte_core.entrypoint", "WorkerSpec"),
    "worker_spec": ("flyte_core.entrypoint", "worker_spec"),
    "write_outcome": ("flyte_core.entrypoint", "write_outcome"),
    "read_outcome": ("flyte_core.entrypoint", "read_outcome"),
    "run_worker_attempt": ("flyte_core.entrypoint", "run"),
    "worker_main": ("flyte_core.entrypoint", "main"),
    "worker_exit_code": ("flyte_core.entrypoint", "exit_code"),
    "flush_worker_output": ("flyte_core.entrypoint", "flush_output"),
    "find_task": ("flyte_core.entrypoint", "find_task"),
    "WORKER_SCHEMA_VERSION": ("flyte_core.entrypoint", "SCHEMA_VERSION"),
    "ChannelServer": ("flyte_core.channel", "ChannelServer"),
    "CHANNEL_PATH_LIMIT": ("flyte_core.channel", "MAX_SOCKET_PATH"),
    "task_ref": ("flyte_core.channel_client", "task_ref"),
    "is_nested_function": ("flyte_core.channel_client", "is_nested_function"),
    "tell_finished": ("flyte_core.channel_client", "tell_finished"),
    "watch_controller": ("flyte_core.channel_client", "watch_controller"),
    # Launchers
    "Launcher": ("flyte_core.launcher", "Launcher"),
    "LauncherRegistry": ("flyte_core.launcher", "LauncherRegistry"),
    "LaunchRequest": ("flyte_core.launcher", "LaunchRequest"),
    "LAUNCHER_LABEL": ("flyte_core.launcher", "LAUNCHER_LABEL"),
    # Images and image builders
    "Image": ("flyte_core.image", "Image"),
    "Layer": ("flyte_core.image", "Layer"),
    "ImageBuilder": ("flyte_core.imagebuilder", "ImageBuilder"),
    "ImageBuilderFactory": ("flyte_core.imagebuilder", "ImageBuilderFactory"),
    "ImageBuilderRegistry": ("flyte_core.imagebuilder", "ImageBuilderRegistry"),
    "image_builders": ("flyte_core.imagebuilder", "image_builders"),
    "PythonWheels": ("flyte_core.image_layers", "PythonWheels"),
    "is_own_wheels": ("flyte_core.image_layers", "is_own_wheels"),
    "read_script_metadata": ("flyte_core.image_layers", "read_script_metadata"),
    "requirement_name": ("flyte_core.image_layers", "requirement_name"),
    "secrets_of": ("flyte_core.image_layers", "secrets_of"),
    # Secrets
    "Secret": ("flyte_core.models", "Secret"),
    "to_secrets": ("flyte_core.models", "to_secrets"),
    "LocalSecretStore": ("flyte_core.secrets", "LocalSecretStore"),
    "secret_value": ("flyte_core.secrets", "secret_value"),
    "secret_env": ("flyte_core.secrets", "secret_env"),
    "secret_id": ("flyte_core.secrets", "secret_id"),
    "env_name": ("flyte_core.secrets", "env_name"),
    "how_to_set": ("flyte_core.secrets", "how_to_set"),
    "default_secret_value": ("flyte_core.secrets", "flyte_secret_value"),
    # Types and data
    "TypeTransformer": ("flyte_core.types.transformer", "TypeTransformer"),
    "ConversionContext": ("flyte_core.types.transformer", "ConversionContext"),
    "Converter": ("flyte_core.types.transformer", "Converter"),
    "TypeEngine": ("flyte_core.types.engine", "TypeEngine"),
    "mismatch": ("flyte_core.types.common", "mismatch"),
    "PickleFallbackWarning": ("flyte_core.types.builtins", "PickleFallbackWarning"),
    "type_name": ("flyte_core.interface", "type_name"),
    "Input": ("flyte_core.interface", "Input"),
    "NativeInterface": ("flyte_core.interface", "NativeInterface"),
    "OUTPUT_NAME": ("flyte_core.interface", "OUTPUT_NAME"),
    "DataStore": ("flyte_core.datastore", "DataStore"),
    # Tasks
    "TaskTemplate": ("flyte_core.task", "TaskTemplate"),
    "TaskRef": ("flyte_core.task", "TaskRef"),
    "TaskEnvironment": ("flyte_core.environment", "TaskEnvironment"),
    "Cache": ("flyte_core.models", "Cache"),
    "Resources": ("flyte_core.models", "Resources"),
    "ReusePolicy": ("flyte_core.models", "ReusePolicy"),
    "to_cache": ("flyte_core.models", "to_cache"),
    "to_retries": ("flyte_core.models", "to_retries"),
    "to_timeout": ("flyte_core.models", "to_timeout"),
    "Trigger": ("flyte_core.triggers", "Trigger"),
    "Cron": ("flyte_core.triggers", "Cron"),
    "FixedRate": ("flyte_core.triggers", "FixedRate"),
    "TriggerTime": ("flyte_core.triggers", "TriggerTime"),
    "task_triggers": ("flyte_core.triggers", "task_triggers"),
    "load_file": ("flyte_core.loader", "load_file"),
    "tasks_in": ("flyte_core.loader", "tasks_in"),
    "REPORT_FILE": ("flyte_core.report", "REPORT_FILE"),
    "report_url": ("flyte_core.report", "report_url"),
    # Sessions, runs and the run store
    "Session": ("flyte_core.session", "Session"),
    "RunOptions": ("flyte_core.session", "RunOptions"),
    "current_session": ("flyte_core.api", "current_session"),
    "Run": ("flyte_core.run", "Run"),
    "RunStore": ("flyte_core.runstore.store", "RunStore"),
    "SQLiteRunStore": ("flyte_core.runstore.sqlite", "SQLiteRunStore"),
    "RunRecord": ("flyte_core.runstore.records", "RunRecord"),
    "ActionRecord": ("flyte_core.runstore.records", "ActionRecord"),
    "ErrorInfo": ("flyte_core.runstore.records", "ErrorInfo"),
    "LogLine": ("flyte_core.runstore.records", "LogLine"),
    "Phase": ("flyte_core.runstore.records", "Phase"),
    "RunEvent": ("flyte_core.events", "RunEvent"),
    "ActionEvent": ("flyte_core.events", "ActionEvent"),
    "RunObserver": ("flyte_core.observers", "RunObserver"),
    # Configuration and options
    "Config": ("flyte_core.config", "Config"),
    "flyte_home": ("flyte_core.config", "flyte_home"),
    "structure": ("flyte_core.configschema", "structure"),
    "at_least": ("flyte_core.configschema", "at_least"),
    "one_of": ("flyte_core.configschema", "one_of"),
    "Invalid": ("flyte_core.configschema", "Invalid"),
    "ConfigValueError": ("flyte_core.configschema", "ConfigValueError"),
    "check_name": ("flyte_core.names", "check_name"),
    "optional_name": ("flyte_core.names", "optional_name"),
    "inside": ("flyte_core.names", "inside"),
    "NAME_RULE": ("flyte_core.names", "NAME_RULE"),
    # Command line
    "CliState": ("flyte_core.cli.common", "CliState"),
    "fail_usage": ("flyte_core.cli.common", "fail_usage"),
    # Errors
    "FlyteUsageError": ("flyte_core.errors", "FlyteUsageError"),
    "ConfigError": ("flyte_core.errors", "ConfigError"),
    "PluginError": ("flyte_core.errors", "PluginError"),
    "CodeLoadError": ("flyte_core.errors", "CodeLoadError"),
    "TypeTransformerError": ("flyte_core.errors", "TypeTransformerError"),
    "TaskInputError": ("flyte_core.errors", "TaskInputError"),
    "BaseRuntimeError": ("flyte_core.errors", "BaseRuntimeError"),
    "RuntimeUserError": ("flyte_core.errors", "RuntimeUserError"),
    "TaskTimeoutError": ("flyte_core.errors", "TaskTimeoutError"),
    "AppleSiliconNotAvailableError": ("flyte_core.platform_errors", "AppleSiliconNotAvailableError"),
    # Flyte 2's flyte.extend names
    "AsyncFunctionTaskTemplate": ("flyte_core.task", "TaskTemplate"),
}

__all__ = [
    # Hooks and plugins
    "hookimpl", "PluginSet", "PluginInfo", "PluginFailure", "ENTRY_POINT_GROUP",
    # Backends
    "Backend", "BackendFactory", "BackendRegistry", "BackendRun", "RunController", "ActionSpec", "ActionOutcome",
    "RunSettings",
    "TaskKindRegistry", "TaskKindRunner", "TaskContext", "ActionID", "current_context", "run_task_sync",
    "run_task_async", "error_info", "LineSink", "capture_output", "output_sink", "worker_environment",
    "controller_alive", "to_device", "RawContainerTask", "ContainerCall",
    # Worker host (out-of-process backends)
    "WorkerSpec", "worker_spec", "write_outcome", "read_outcome", "run_worker_attempt", "worker_main",
    "worker_exit_code", "flush_worker_output", "find_task", "WORKER_SCHEMA_VERSION", "ChannelServer",
    "CHANNEL_PATH_LIMIT", "task_ref", "is_nested_function", "tell_finished", "watch_controller",
    # Launchers
    "Launcher", "LauncherRegistry", "LaunchRequest", "LAUNCHER_LABEL",
    # Images and image builders
    "Image", "Layer", "ImageBuilder", "ImageBuilderFactory", "ImageBuilderRegistry", "image_builders",
    "PythonWheels", "is_own_wheels", "read_script_metadata", "requirement_name", "secrets_of",
    # Secrets
    "Secret", "to_secrets", "LocalSecretStore", "secret_value", "secret_env", "secret_id", "env_name", "how_to_set",
    "default_secret_value",
    # Types and data
    "TypeTransformer", "ConversionContext", "Converter", "TypeEngine", "mismatch", "PickleFallbackWarning",
    "type_name", "Input", "NativeInterface", "OUTPUT_NAME", "DataStore",
    # Tasks
    "TaskTemplate", "TaskRef", "TaskEnvironment", "Cache", "Resources", "ReusePolicy", "to_cache", "to_retries",
    "to_timeout", "Trigger", "Cron", "FixedRate", "TriggerTime", "task_triggers", "load_file", "tasks_in",
    "REPORT_FILE", "report_url",
    # Sessions, runs and the run store
    "Session", "RunOptions", "current_session", "Run", "RunStore", "SQLiteRunStore", "RunRecord", "ActionRecord",
    "ErrorInfo", "LogLine", "Phase", "RunEvent", "ActionEvent", "RunObserver",
    # Configuration and options
    "Config", "flyte_home", "structure", "at_least", "one_of", "Invalid", "ConfigValueError", "check_name",
    "optional_name", "inside", "NAME_RULE",
    # Command line
    "CliState", "fail_usage",
    # Errors
    "FlyteUsageError", "ConfigError", "PluginError", "CodeLoadError", "TypeTransformerError", "TaskInputError",
    "BaseRuntimeError", "RuntimeUserError", "TaskTimeoutError", "AppleSiliconNotAvailableError",
    # Flyte 2's flyte.extend names
    "AsyncFunctionTaskTemplate",
]


def __getattr__(name: str) -> Any:
    """Import ``name`` from the module that defines it, the first time it is used."""
    try:
        module, attr = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module 'flyte_core.extend' has no attribute {name!r}; the plugin API is "
                             "the names in flyte_core.extend.__all__ (see docs/writing-plugins.md)") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
