"""Exceptions, named as Flyte 2 names them (``flyte.errors``), plus the core's own usage errors.

Every error a user can cause carries a one-sentence message that names the task, parameter or
file involved and what to do about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import asyncio

#: Whose fault a runtime error is, as ``BaseRuntimeError.kind`` says it.
ErrorKind = Literal["system", "unknown", "user"]


def silence_polling_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An event-loop exception handler that drops the ``BlockingIOError`` a non-blocking poll can
    report and hands everything else to the loop's default handler (``loop.set_exception_handler``)."""
    if isinstance(context.get("exception"), BlockingIOError):
        return
    loop.default_exception_handler(context)


class BaseRuntimeError(RuntimeError):
    """Base of errors raised while a run executes.

    ``code`` is a short machine-readable kind, ``kind`` says whose fault it is
    (``user`` or ``system``), and ``worker`` names the action path that failed, when known.
    """

    def __init__(self, code: str, kind: str, message: str, worker: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.kind = kind
        self.worker = worker


class RuntimeUserError(BaseRuntimeError):
    """A task's own code raised; the message holds the task's traceback."""

    def __init__(self, code: str, message: str, worker: str | None = None) -> None:
        super().__init__(code, "user", message, worker)


class RuntimeSystemError(BaseRuntimeError):
    """The platform failed (a crashed worker, a lost container), not the task's code."""

    def __init__(self, code: str, message: str, worker: str | None = None) -> None:
        super().__init__(code, "system", message, worker)


class RuntimeUnknownError(BaseRuntimeError):
    """A failure whose cause could not be classified."""

    def __init__(self, code: str, message: str, worker: str | None = None) -> None:
        super().__init__(code, "unknown", message, worker)


class OOMError(RuntimeUserError):
    """The task exceeded its memory limit."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__("OOMError", message, worker)


class TaskTimeoutError(RuntimeUserError):
    """The task ran longer than its ``timeout``."""

    def __init__(self, message: str, worker: str | None = None, code: str = "TaskTimeoutError") -> None:
        super().__init__(code, message, worker)


class MaxRuntimeExceededError(TaskTimeoutError):
    """An attempt ran longer than ``Timeout.max_runtime`` (a bare ``timeout=``); raised for every
    per-attempt timeout. Its ``code`` stays ``TaskTimeoutError``, the code runs record for it."""


class MaxQueuedTimeExceededError(TaskTimeoutError):
    """An attempt waited longer than ``Timeout.max_queued_time`` to start."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__(message, worker, code="MaxQueuedTimeExceededError")


class DeadlineExceededError(TaskTimeoutError):
    """``Timeout.deadline`` (a limit over all attempts) passed, so no further retry was started."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__(message, worker, code="DeadlineExceededError")


class RetriesExhaustedError(RuntimeUserError):
    """Every attempt the task's retry strategy allowed has failed."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__("RetriesExhaustedError", message, worker)


class ActionAbortedError(RuntimeUserError):
    """The action was aborted (Ctrl-C, ``flyte runs abort``, or its parent failed)."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__("ActionAbortedError", message, worker)


class RunAbortedError(RuntimeUserError):
    """The whole run was aborted."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__("RunAbortedError", message, worker)


class TaskInterruptedError(RuntimeSystemError):
    """The process running the task went away (crash, kill, lost node) before it finished."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__("TaskInterruptedError", message, worker)


class PrimaryContainerNotFoundError(RuntimeSystemError):
    """The backend could not find the container or process that ran the task."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__("PrimaryContainerNotFoundError", message, worker)


class ImagePullBackOffError(RuntimeSystemError):
    """The task's image could not be pulled."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__("ImagePullBackOffError", message, worker)


class CustomError(RuntimeUserError):
    """An error users raise on purpose to fail a task with a code of their choosing."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)

    @classmethod
    def from_exception(cls, e: Exception) -> CustomError:
        """Wrap any exception, keeping its type name as the code."""
        err = cls(type(e).__name__, str(e))
        err.__cause__ = e
        return err


class NotInTaskContextError(RuntimeUserError):
    """A task-only API (such as ``flyte.ctx().action``) was used outside a task."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


class InitializationError(BaseRuntimeError):
    """flyte was used before ``flyte.init()`` set it up, or set up wrongly."""

    def __init__(self, code: str, kind: str, message: str) -> None:
        super().__init__(code, kind, message)


class ReferenceTaskError(RuntimeUserError):
    """A task reference could not be resolved."""

    def __init__(self, message: str) -> None:
        super().__init__("ReferenceTaskError", message)


class LogsNotYetAvailableError(BaseRuntimeError):
    """Logs were asked for before the action produced any."""

    def __init__(self, message: str) -> None:
        super().__init__("LogsNotYetAvailableError", "system", message)


class ActionNotFoundError(RuntimeError):
    """No action (or run) has the given name."""


class InlineIOMaxBytesBreached(RuntimeUserError):
    """Inline inputs or outputs grew past the configured ``max_inline_io_bytes``."""

    def __init__(self, message: str) -> None:
        super().__init__("InlineIOMaxBytesBreached", message)


# --- flyte-core's own usage errors -------------------------------------------------------------


class FlyteUsageError(ValueError):
    """Base class of errors in how flyte-core is used (bad code, bad input, bad config).

    The CLI prints these as one line and exits with code 2.
    """


class TaskDefinitionError(FlyteUsageError, TypeError):
    """A function cannot become a task (a missing type hint, an unsupported signature)."""


class TaskInputError(FlyteUsageError, TypeError):
    """A task was called with a missing, unknown or wrongly typed input."""


class TypeTransformerError(FlyteUsageError, TypeError):
    """A value could not be converted to or from a literal."""


class ConfigError(FlyteUsageError):
    """The configuration file or a configuration value is invalid."""


class RunStoreDamagedError(ConfigError):
    """The run store's file is damaged; it is never modified, the message says how to recover."""


class PluginError(FlyteUsageError):
    """A plugin is missing, duplicated or broken."""


class ModuleLoadError(RuntimeUserError):
    """A task file or module could not be loaded (Flyte 2's name; see :class:`CodeLoadError`)."""

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__("ModuleLoadError", message, worker)


class CodeLoadError(FlyteUsageError, ModuleLoadError):
    """A task file or module could not be loaded: a usage error, and Flyte 2's ``ModuleLoadError``."""

    def __init__(self, message: str) -> None:
        ModuleLoadError.__init__(self, message)


class CodeBundleError(RuntimeUserError):
    """The code bundle of a run could not be built, stored or unpacked."""

    def __init__(self, message: str) -> None:
        super().__init__("CodeBundleError", message)


class ImageBuildError(RuntimeUserError):
    """An environment's image could not be built (``flyte build``, or a backend building it for a run)."""

    def __init__(self, message: str) -> None:
        super().__init__("ImageBuildError", message)


class InvalidImageNameError(RuntimeUserError):
    """An image reference is not a valid ``[registry/]name[:tag][@digest]``."""

    def __init__(self, message: str, worker: str | None = None, code: str = "InvalidImageNameError") -> None:
        super().__init__(code, message, worker)


class InvalidPackageError(RuntimeUserError):
    """A package an image asks for could not be installed."""

    def __init__(self, package_name: str, original_error: str) -> None:
        super().__init__("InvalidPackageError", f"Package '{package_name}' could not be installed: {original_error}")
        self.package_name = package_name
        self.original_error = original_error


class OnlyAsyncIOSupportedError(RuntimeUserError):
    """A task was awaited from an event loop that is not asyncio's (trio, curio)."""

    def __init__(self, message: str) -> None:
        super().__init__("OnlyAsyncIOSupportedError", message)


class RestrictedTypeError(RuntimeUserError):
    """A type that may not cross a task boundary was used as an input or output."""

    def __init__(self, message: str) -> None:
        super().__init__("RestrictedTypeUsage", message)


class NonRecoverableError(RuntimeUserError):
    """Raise this from a task to fail it without using its remaining retries."""

    def __init__(self, message: str, code: str = "NonRecoverableError") -> None:
        super().__init__(code, message)


class SyncTaskCallInAsyncContextError(RuntimeUserError):
    """A sync task was called without ``await ... .aio()`` from an async task."""

    def __init__(self, message: str) -> None:
        super().__init__("SyncTaskCallInAsyncContextError", message)


class TraceDoesNotAllowNestedTasksError(RuntimeUserError):
    """A task was called from inside a ``@flyte.trace`` function."""

    def __init__(self, message: str) -> None:
        super().__init__("TraceDoesNotAllowNestedTasksError", message)


class RuntimeDataValidationError(RuntimeUserError):
    """An input or output could not be converted to or from its literal."""

    def __init__(self, var: str, e: Exception | str, task_name: str = "") -> None:
        super().__init__("RuntimeDataValidationError", f"Task '{task_name}', '{var}': {e}")
