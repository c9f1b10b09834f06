"""The plugin API of flyte-core: the one module a plugin imports from the core.

A flyte-core plugin is a distribution with an entry point in the group ``flyte`` naming a module
(or object) whose functions carry :data:`hookimpl`; ``flyte_core.plugins.hookspecs`` documents every hook.
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
    runs ``python -m flyte_core.worker.entrypoint SPEC`` (or :func:`worker_main` / :func:`run_worker_attempt`
    in a process of the backend's own) and writes the outcome (:func:`write_outcome`), which the
    backend reads back with :func:`read_outcome`; a backend with a connection of its own to a
    long-lived worker passes both inline instead (:meth:`WorkerSpec.to_json`, :func:`outcome_to_json`,
    :func:`outcome_from_json`); such a worker may borrow an attempt's store folders only when it first
    writes one (:func:`lend_on_write`, :func:`forget_loan`). Nested task calls of worker bodies reach the run's
    controller (``BackendRun.controller``, a :class:`RunController`) through a :class:`ChannelServer`
    the backend starts. :func:`make_bundle` packs the project's code into the data store for workers
    to :func:`extract_bundle`. Workers load the session's plugins too (the installed ones, and those the
    session named when they are importable), so task kinds and type plugins act the same there.
    A :class:`StoreView` says which folders of a local data store an attempt mounts
    (:class:`AttemptMounts`) and imports values from elsewhere in the store into the run's folder.
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
    from flyte_core.api.runs import current_session as current_session
    from flyte_core.cli.common import CliState as CliState
    from flyte_core.cli.common import fail_usage as fail_usage
    from flyte_core.config.files import Config as Config
    from flyte_core.config.files import flyte_home as flyte_home
    from flyte_core.config.schema import ConfigValueError as ConfigValueError
    from flyte_core.config.schema import Invalid as Invalid
    from flyte_core.config.schema import at_least as at_least
    from flyte_core.config.schema import one_of as one_of
    from flyte_core.config.schema import structure as structure
    from flyte_core.errors.core import BaseRuntimeError as BaseRuntimeError
    from flyte_core.errors.core import CodeLoadError as CodeLoadError
    from flyte_core.errors.core import ConfigError as ConfigError
    from flyte_core.errors.core import FlyteUsageError as FlyteUsageError
    from flyte_core.errors.core import PluginError as PluginError
    from flyte_core.errors.core import RuntimeUserError as RuntimeUserError
    from flyte_core.errors.core import TaskInputError as TaskInputError
    from flyte_core.errors.core import TaskTimeoutError as TaskTimeoutError
    from flyte_core.errors.core import TypeTransformerError as TypeTransformerError
    from flyte_core.errors.platform import AppleSiliconNotAvailableError as AppleSiliconNotAvailableError
    from flyte_core.images.builder import ImageBuilder as ImageBuilder
    from flyte_core.images.builder import ImageBuilderFactory as ImageBuilderFactory
    from flyte_core.images.builder import ImageBuilderRegistry as ImageBuilderRegistry
    from flyte_core.images.builder import image_builders as image_builders
    from flyte_core.images.layers import Layer as Layer
    from flyte_core.images.layers import PythonWheels as PythonWheels
    from flyte_core.images.layers import is_own_wheels as is_own_wheels
    from flyte_core.images.layers import read_script_metadata as read_script_metadata
    from flyte_core.images.layers import requirement_name as requirement_name
    from flyte_core.images.layers import secrets_of as secrets_of
    from flyte_core.images.spec import Image as Image
    from flyte_core.plugins.hookspecs import hookimpl as hookimpl
    from flyte_core.plugins.lazy import lazy_exports as lazy_exports
    from flyte_core.plugins.manager import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP
    from flyte_core.plugins.manager import PluginFailure as PluginFailure
    from flyte_core.plugins.manager import PluginInfo as PluginInfo
    from flyte_core.plugins.manager import PluginSet as PluginSet
    from flyte_core.run.backend import ActionSpec as ActionSpec
    from flyte_core.run.backend import Backend as Backend
    from flyte_core.run.backend import BackendRun as BackendRun
    from flyte_core.run.backend import RunController as RunController
    from flyte_core.run.backend_registry import BackendFactory as BackendFactory
    from flyte_core.run.backend_registry import BackendRegistry as BackendRegistry
    from flyte_core.run.body import error_info as error_info
    from flyte_core.run.body import run_async as run_task_async
    from flyte_core.run.body import run_sync as run_task_sync
    from flyte_core.run.events import ActionEvent as ActionEvent
    from flyte_core.run.events import RunEvent as RunEvent
    from flyte_core.run.handle import Run as Run
    from flyte_core.run.launcher import LAUNCHER_LABEL as LAUNCHER_LABEL
    from flyte_core.run.launcher import Launcher as Launcher
    from flyte_core.run.launcher import LauncherRegistry as LauncherRegistry
    from flyte_core.run.launcher import LaunchRequest as LaunchRequest
    from flyte_core.run.liveness import controller_alive as controller_alive
    from flyte_core.run.observers import RunObserver as RunObserver
    from flyte_core.run.outcome import ActionOutcome as ActionOutcome
    from flyte_core.run.session import RunOptions as RunOptions
    from flyte_core.run.session import Session as Session
    from flyte_core.run.settings import RunSettings as RunSettings
    from flyte_core.runstore.records import ActionRecord as ActionRecord
    from flyte_core.runstore.records import ErrorInfo as ErrorInfo
    from flyte_core.runstore.records import LogLine as LogLine
    from flyte_core.runstore.records import Phase as Phase
    from flyte_core.runstore.records import RunRecord as RunRecord
    from flyte_core.runstore.sqlite import SQLiteRunStore as SQLiteRunStore
    from flyte_core.runstore.store import RunStore as RunStore
    from flyte_core.runtime.context import ActionID as ActionID
    from flyte_core.runtime.context import TaskContext as TaskContext
    from flyte_core.runtime.context import current as current_context
    from flyte_core.runtime.loans import forget as forget_loan
    from flyte_core.runtime.loans import lend_on_write as lend_on_write
    from flyte_core.runtime.logcapture import LineSink as LineSink
    from flyte_core.runtime.logcapture import installed as capture_output
    from flyte_core.runtime.logcapture import sink as output_sink
    from flyte_core.runtime.reportpage import REPORT_FILE as REPORT_FILE
    from flyte_core.runtime.reportpage import report_url as report_url
    from flyte_core.security.names import NAME_RULE as NAME_RULE
    from flyte_core.security.names import check_name as check_name
    from flyte_core.security.names import inside as inside
    from flyte_core.security.names import optional_name as optional_name
    from flyte_core.security.secrets import LocalSecretStore as LocalSecretStore
    from flyte_core.security.secrets import Secret as Secret
    from flyte_core.security.secrets import env_name as env_name
    from flyte_core.security.secrets import flyte_secret_value as default_secret_value
    from flyte_core.security.secrets import how_to_set as how_to_set
    from flyte_core.security.secrets import secret_env as secret_env
    from flyte_core.security.secrets import secret_id as secret_id
    from flyte_core.security.secrets import secret_value as secret_value
    from flyte_core.security.secrets import to_secrets as to_secrets
    from flyte_core.storage.datastore import DataStore as DataStore
    from flyte_core.storage.storeview import AttemptMounts as AttemptMounts
    from flyte_core.storage.storeview import StoreView as StoreView
    from flyte_core.storage.storeview import local_path as local_store_path
    from flyte_core.task.devices import to_device as to_device
    from flyte_core.task.environment import TaskEnvironment as TaskEnvironment
    from flyte_core.task.kinds import TaskKindRegistry as TaskKindRegistry
    from flyte_core.task.kinds import TaskKindRunner as TaskKindRunner
    from flyte_core.task.loader import load_file as load_file
    from flyte_core.task.loader import tasks_in as tasks_in
    from flyte_core.task.rawcontainer import ContainerCall as ContainerCall
    from flyte_core.task.rawcontainer import RawContainerTask as RawContainerTask
    from flyte_core.task.settings import Cache as Cache
    from flyte_core.task.settings import Resources as Resources
    from flyte_core.task.settings import ReusePolicy as ReusePolicy
    from flyte_core.task.settings import to_cache as to_cache
    from flyte_core.task.settings import to_retries as to_retries
    from flyte_core.task.settings import to_timeout as to_timeout
    from flyte_core.task.template import TaskRef as TaskRef
    from flyte_core.task.template import TaskTemplate as AsyncFunctionTaskTemplate
    from flyte_core.task.template import TaskTemplate as TaskTemplate
    from flyte_core.task.triggers import Cron as Cron
    from flyte_core.task.triggers import FixedRate as FixedRate
    from flyte_core.task.triggers import Trigger as Trigger
    from flyte_core.task.triggers import TriggerTime as TriggerTime
    from flyte_core.task.triggers import task_triggers as task_triggers
    from flyte_core.types.common import mismatch as mismatch
    from flyte_core.types.engine import TypeEngine as TypeEngine
    from flyte_core.types.fallback import PickleFallbackWarning as PickleFallbackWarning
    from flyte_core.types.interface import OUTPUT_NAME as OUTPUT_NAME
    from flyte_core.types.interface import Input as Input
    from flyte_core.types.interface import NativeInterface as NativeInterface
    from flyte_core.types.interface import type_name as type_name
    from flyte_core.types.transformer import ConversionContext as ConversionContext
    from flyte_core.types.transformer import Converter as Converter
    from flyte_core.types.transformer import TypeTransformer as TypeTransformer
    from flyte_core.worker.bundle import BundleError as BundleError
    from flyte_core.worker.bundle import bundle_files as bundle_files
    from flyte_core.worker.bundle import extract_bundle as extract_bundle
    from flyte_core.worker.bundle import make_bundle as make_bundle
    from flyte_core.worker.channel_client import is_nested_function as is_nested_function
    from flyte_core.worker.channel_client import task_ref as task_ref
    from flyte_core.worker.channel_client import tell_finished as tell_finished
    from flyte_core.worker.channel_client import watch_controller as watch_controller
    from flyte_core.worker.channel_server import MAX_SOCKET_PATH as CHANNEL_PATH_LIMIT
    from flyte_core.worker.channel_server import ChannelServer as ChannelServer
    from flyte_core.worker.entrypoint import SCHEMA_VERSION as WORKER_SCHEMA_VERSION
    from flyte_core.worker.entrypoint import WorkerSpec as WorkerSpec
    from flyte_core.worker.entrypoint import exit_code as worker_exit_code
    from flyte_core.worker.entrypoint import flush_output as flush_worker_output
    from flyte_core.worker.entrypoint import main as worker_main
    from flyte_core.worker.entrypoint import outcome_from_json as outcome_from_json
    from flyte_core.worker.entrypoint import outcome_to_json as outcome_to_json
    from flyte_core.worker.entrypoint import read_outcome as read_outcome
    from flyte_core.worker.entrypoint import run as run_worker_attempt
    from flyte_core.worker.entrypoint import worker_spec as worker_spec
    from flyte_core.worker.entrypoint import write_outcome as write_outcome
    from flyte_core.worker.environment import worker_environment as worker_environment
    from flyte_core.worker.findtask import find_task as find_task

#: Where each name lives, by module (``attribute:name`` where the API name differs). Read on first
#: use by :func:`__getattr__`.
_BY_MODULE: dict[str, str] = {
    "flyte_core.api.runs": "current_session",
    "flyte_core.cli.common": "CliState fail_usage",
    "flyte_core.config.files": "Config flyte_home",
    "flyte_core.config.schema": "structure at_least one_of Invalid ConfigValueError",
    "flyte_core.errors.core": (
        "FlyteUsageError ConfigError PluginError CodeLoadError TypeTransformerError TaskInputError BaseRuntimeError "
        "RuntimeUserError TaskTimeoutError"
    ),
    "flyte_core.errors.platform": "AppleSiliconNotAvailableError",
    "flyte_core.images.builder": "ImageBuilder ImageBuilderFactory ImageBuilderRegistry image_builders",
    "flyte_core.images.layers": "Layer PythonWheels is_own_wheels read_script_metadata requirement_name secrets_of",
    "flyte_core.images.spec": "Image",
    "flyte_core.plugins.hookspecs": "hookimpl",
    "flyte_core.plugins.lazy": "lazy_exports",
    "flyte_core.plugins.manager": "PluginSet PluginInfo PluginFailure ENTRY_POINT_GROUP",
    "flyte_core.run.backend": "Backend BackendRun RunController ActionSpec",
    "flyte_core.run.backend_registry": "BackendFactory BackendRegistry",
    "flyte_core.run.outcome": "ActionOutcome",
    "flyte_core.run.body": "run_sync:run_task_sync run_async:run_task_async error_info",
    "flyte_core.run.events": "RunEvent ActionEvent",
    "flyte_core.run.handle": "Run",
    "flyte_core.run.launcher": "Launcher LauncherRegistry LaunchRequest LAUNCHER_LABEL",
    "flyte_core.run.liveness": "controller_alive",
    "flyte_core.run.observers": "RunObserver",
    "flyte_core.run.session": "Session RunOptions",
    "flyte_core.run.settings": "RunSettings",
    "flyte_core.runstore.records": "RunRecord ActionRecord ErrorInfo LogLine Phase",
    "flyte_core.runstore.sqlite": "SQLiteRunStore",
    "flyte_core.runstore.store": "RunStore",
    "flyte_core.runtime.context": "TaskContext ActionID current:current_context",
    "flyte_core.runtime.loans": "lend_on_write forget:forget_loan",
    "flyte_core.runtime.logcapture": "LineSink installed:capture_output sink:output_sink",
    "flyte_core.runtime.reportpage": "REPORT_FILE report_url",
    "flyte_core.security.names": "check_name optional_name inside NAME_RULE",
    "flyte_core.security.secrets": (
        "Secret to_secrets LocalSecretStore secret_value secret_env secret_id env_name how_to_set "
        "flyte_secret_value:default_secret_value"
    ),
    "flyte_core.storage.datastore": "DataStore",
    "flyte_core.storage.storeview": "StoreView AttemptMounts local_path:local_store_path",
    "flyte_core.task.devices": "to_device",
    "flyte_core.task.environment": "TaskEnvironment",
    "flyte_core.task.kinds": "TaskKindRegistry TaskKindRunner",
    "flyte_core.task.loader": "load_file tasks_in",
    "flyte_core.task.rawcontainer": "RawContainerTask ContainerCall",
    "flyte_core.task.settings": "Cache Resources ReusePolicy to_cache to_retries to_timeout",
    "flyte_core.task.template": "TaskTemplate TaskRef TaskTemplate:AsyncFunctionTaskTemplate",
    "flyte_core.task.triggers": "Trigger Cron FixedRate TriggerTime task_triggers",
    "flyte_core.types.fallback": "PickleFallbackWarning",
    "flyte_core.types.common": "mismatch",
    "flyte_core.types.engine": "TypeEngine",
    "flyte_core.types.interface": "type_name Input NativeInterface OUTPUT_NAME",
    "flyte_core.types.transformer": "TypeTransformer ConversionContext Converter",
    "flyte_core.worker.bundle": "make_bundle extract_bundle bundle_files BundleError",
    "flyte_core.worker.channel_client": "task_ref is_nested_function tell_finished watch_controller",
    "flyte_core.worker.channel_server": "ChannelServer MAX_SOCKET_PATH:CHANNEL_PATH_LIMIT",
    "flyte_core.worker.entrypoint": (
        "WorkerSpec worker_spec write_outcome read_outcome outcome_to_json outcome_from_json run:run_worker_attempt "
        "main:worker_main exit_code:worker_exit_code flush_output:flush_worker_output "
        "SCHEMA_VERSION:WORKER_SCHEMA_VERSION"
    ),
    "flyte_core.worker.environment": "worker_environment",
    "flyte_core.worker.findtask": "find_task",
}
_WHERE: dict[str, tuple[str, str]] = {
    name: (module, attr) for module, names in _BY_MODULE.items()
    for attr, _, alias in (entry.partition(":") for entry in names.split()) for name in [alias or attr]
}

__all__ = [
    # Hooks and plugins
    "hookimpl", "PluginSet", "PluginInfo", "PluginFailure", "ENTRY_POINT_GROUP", "lazy_exports",
    # Backends
    "Backend", "BackendFactory", "BackendRegistry", "BackendRun", "RunController", "ActionSpec", "ActionOutcome",
    "RunSettings",
    "TaskKindRegistry", "TaskKindRunner", "TaskContext", "ActionID", "current_context", "run_task_sync",
    "run_task_async", "error_info", "LineSink", "capture_output", "output_sink", "worker_environment",
    "controller_alive", "to_device", "RawContainerTask", "ContainerCall",
    # Worker host (out-of-process backends)
    "WorkerSpec", "worker_spec", "write_outcome", "read_outcome", "outcome_to_json", "outcome_from_json",
    "run_worker_attempt", "worker_main", "lend_on_write", "forget_loan",
    "worker_exit_code", "flush_worker_output", "find_task", "WORKER_SCHEMA_VERSION", "ChannelServer",
    "make_bundle", "extract_bundle", "bundle_files", "BundleError",
    "CHANNEL_PATH_LIMIT", "task_ref", "is_nested_function", "tell_finished", "watch_controller",
    "StoreView", "AttemptMounts", "local_store_path",
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
