"""Exceptions, named as Flyte 2 names them (``flyte.errors``), plus the core's own usage errors.

Every error a user can cause carries a one-sentence message that names the task, parameter or
file involved and what to do about it.
"""

from __future__ import annotations


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

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__("TaskTimeoutError", message, worker)


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


class CodeLoadError(FlyteUsageError):
    """A task file or module could not be loaded."""


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
