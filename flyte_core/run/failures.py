"""Turns a recorded :class:`ErrorInfo` back into the ``flyte.errors`` exception users catch."""

from __future__ import annotations

from typing import NoReturn

from flyte_core.errors import core as errors
from flyte_core.errors.info import ErrorInfo
from flyte_core.errors.platform import platform_error
from flyte_core.run.exctypes import find_class, user_error_class

#: Codes of the errors that end an action as timed out.
TIMEOUT_CODES = frozenset({"TaskTimeoutError", "MaxRuntimeExceededError", "MaxQueuedTimeExceededError",
                           "DeadlineExceededError"})

_BY_CODE: dict[str, type[errors.BaseRuntimeError]] = {
    "TaskTimeoutError": errors.MaxRuntimeExceededError,
    "MaxRuntimeExceededError": errors.MaxRuntimeExceededError,
    "MaxQueuedTimeExceededError": errors.MaxQueuedTimeExceededError,
    "DeadlineExceededError": errors.DeadlineExceededError,
    "ModuleLoadError": errors.ModuleLoadError,
    "OOMError": errors.OOMError,
    "ActionAbortedError": errors.ActionAbortedError,
    "TaskInterruptedError": errors.TaskInterruptedError,
    "ImagePullBackOffError": errors.ImagePullBackOffError,
}


def to_exception(info: ErrorInfo, task: str, *, retries_exhausted: bool = False) -> errors.BaseRuntimeError:
    """The exception for ``info``: the matching ``flyte.errors`` class, carrying ``.info``; a
    task's own exception is also an instance of its original class (see :mod:`flyte_core.run.exctypes`).
    The message names the task that failed (``info.task``), which for a child's error is not ``task``."""
    task = info.task or task
    where = f"Task '{task}' (action {info.action})" if info.action else f"Task '{task}'"
    text = f"{where} failed: {info.message}"
    if info.traceback:
        text += "\n" + info.traceback.rstrip()
    cls = _BY_CODE.get(info.code)
    exc: errors.BaseRuntimeError
    if cls is not None:
        exc = cls(text, info.action)  # type: ignore[call-arg, arg-type]
    elif (platform := platform_error(info.code, info.kind, text, info.action)) is not None:
        exc = platform
    elif info.kind == "system":
        exc = errors.RuntimeSystemError(info.code, text, info.action)
    else:
        original = find_class(info.exc_type) if info.exc_type else None
        user_cls = user_error_class(original) if original is not None else None
        exc = (user_cls or errors.RuntimeUserError)(info.code, text, info.action)
    exc.info = info  # type: ignore[attr-defined]
    exc.retries_exhausted = retries_exhausted  # type: ignore[attr-defined]
    return exc


def raise_error(info: ErrorInfo, task: str, *, retries_exhausted: bool = False) -> NoReturn:
    """Raise :func:`to_exception` without chaining flyte-core's own frames."""
    raise to_exception(info, task, retries_exhausted=retries_exhausted) from None
