"""Flyte 2's ``flyte.errors``: re-exported from ``flyte_core.errors``."""

from flyte_core.errors import *  # noqa: F403
from flyte_core.errors import (  # noqa: F401 - explicit names for type checkers
    ActionAbortedError,
    ActionNotFoundError,
    BaseRuntimeError,
    CustomError,
    ImagePullBackOffError,
    InitializationError,
    InlineIOMaxBytesBreached,
    LogsNotYetAvailableError,
    NonRecoverableError,
    NotInTaskContextError,
    OOMError,
    PrimaryContainerNotFoundError,
    RetriesExhaustedError,
    RunAbortedError,
    RuntimeDataValidationError,
    RuntimeSystemError,
    RuntimeUnknownError,
    RuntimeUserError,
    SyncTaskCallInAsyncContextError,
    TaskInterruptedError,
    TaskTimeoutError,
    TraceDoesNotAllowNestedTasksError,
)
