"""Runs one task body: decode inputs, call the function with its context set, encode the output,
and turn an exception into an :class:`ErrorInfo` carrying the task's own traceback.

Shared by the in-process backend and the out-of-process entrypoint, so every backend converts
data and reports failures the same way.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from flyte_core.errors.core import BaseRuntimeError, NonRecoverableError, PluginError
from flyte_core.errors.info import ErrorInfo
from flyte_core.run.exctypes import type_path
from flyte_core.run.outcome import ActionOutcome
from flyte_core.runtime import context
from flyte_core.task.kinds import TaskKindRegistry
from flyte_core.task.template import TaskTemplate
from flyte_core.types.engine import TypeEngine
from flyte_core.types.transformer import ConversionContext

_CORE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: Result types that cannot be awaitable (checked before the slower general test).
_PLAIN = frozenset({int, float, str, bool, bytes, list, dict, tuple, type(None)})


def body(task: TaskTemplate[Any, Any], kinds: TaskKindRegistry | None) -> Callable[..., Any]:
    """What to call for ``task``: its function, or the runner a plugin registered for its
    ``plugin_config`` type. A plugin_config no installed plugin handles is a clear error."""
    config = task.plugin_config
    if config is None:
        return task.func
    runner = kinds.runner_for(config) if kinds is not None else None
    if runner is None:
        raise PluginError(
            f"Task '{task.name}' has a plugin_config of type {type(config).__name__}, but no installed plugin "
            "runs that kind of task; install the plugin that provides it (see `flyte plugins`)."
        )
    return lambda **kwargs: runner(task, kwargs, config)


def run_sync(
    task: TaskTemplate[Any, Any], inputs: dict[str, Any], ctx: context.TaskContext,
    engine: TypeEngine, conv: ConversionContext, kinds: TaskKindRegistry | None = None,
) -> ActionOutcome:
    """Execute a sync task body in this thread."""
    prepared = _prepare(task, inputs, ctx, engine, conv, kinds)
    if isinstance(prepared, ActionOutcome):
        return prepared
    fn, kwargs = prepared
    token = context.set_current(ctx)
    try:
        if task.report:
            with _report_scope(task, ctx):
                result = fn(**kwargs)
        else:
            result = fn(**kwargs)
        if type(result) not in _PLAIN and inspect.isawaitable(result):
            raise TypeError(f"Task '{task.name}' is sync but returned an awaitable")
    except BaseException as e:
        if not isinstance(e, Exception):
            raise
        return _failure(task, ctx, e)
    finally:
        context.reset(token)
    return _encode(task, ctx, engine, conv, result)


async def run_async(
    task: TaskTemplate[Any, Any], inputs: dict[str, Any], ctx: context.TaskContext,
    engine: TypeEngine, conv: ConversionContext, kinds: TaskKindRegistry | None = None,
) -> ActionOutcome:
    """Execute an async task body on the running loop."""
    prepared = _prepare(task, inputs, ctx, engine, conv, kinds)
    if isinstance(prepared, ActionOutcome):
        return prepared
    fn, kwargs = prepared
    token = context.set_current(ctx)
    try:
        with _report_scope(task, ctx):
            result = fn(**kwargs)
            if inspect.isawaitable(result):
                result = await result
    except Exception as e:
        return _failure(task, ctx, e)
    finally:
        context.reset(token)
    return _encode(task, ctx, engine, conv, result)


def _prepare(
    task: TaskTemplate[Any, Any], inputs: dict[str, Any], ctx: context.TaskContext,
    engine: TypeEngine, conv: ConversionContext, kinds: TaskKindRegistry | None,
) -> tuple[Callable[..., Any], dict[str, Any]] | ActionOutcome:
    """The body to call and its decoded inputs, or the final failure when either cannot be had."""
    try:
        kwargs = engine.decode_inputs(task.name, task.interface, inputs, conv)
        return body(task, kinds), kwargs
    except Exception as e:
        return _failure(task, ctx, e, final=True)


def _report_scope(task: TaskTemplate[Any, Any], ctx: context.TaskContext) -> AbstractContextManager[object]:
    """A report=True task's report: on for the body, written when the body ends, however it ends."""
    if not task.report:
        return contextlib.nullcontext()
    from flyte_core.runtime.reportpage import action_report  # only tasks with reports pay for the import

    return action_report(ctx, True)


def _encode(
    task: TaskTemplate[Any, Any], ctx: context.TaskContext, engine: TypeEngine, conv: ConversionContext,
    result: Any,
) -> ActionOutcome:
    try:
        return ActionOutcome(outputs=engine.encode_output(task.name, task.interface, result, conv))
    except Exception as e:
        return _failure(task, ctx, e, final=True)


def _failure(
    task: TaskTemplate[Any, Any], ctx: context.TaskContext, e: Exception, final: bool = False
) -> ActionOutcome:
    return ActionOutcome(error=error_info(e, ctx.action.name), final=final or isinstance(e, NonRecoverableError))


def error_info(e: BaseException, action: str) -> ErrorInfo:
    """Describe ``e`` for the run store: a child's error keeps its code and failing action; any
    other exception gets its class name as code and the user's frames as traceback."""
    if isinstance(e, BaseRuntimeError) and getattr(e, "info", None) is not None:
        info: ErrorInfo = e.info  # type: ignore[attr-defined]
        return info
    ours = isinstance(e, BaseRuntimeError)
    code = e.code if isinstance(e, BaseRuntimeError) else type(e).__name__
    kind = e.kind if isinstance(e, BaseRuntimeError) else "user"
    return ErrorInfo(code=code, kind=kind, message=f"{type(e).__name__}: {e}", traceback=user_traceback(e),
                     action=action, exc_type=None if ours else type_path(type(e)))


def user_traceback(e: BaseException) -> str:
    """The traceback of ``e`` without flyte-core's own frames, so users see their code."""
    import traceback  # only for a failure: it imports textwrap, a cost on every worker's start

    tb = traceback.TracebackException.from_exception(e)
    tb.stack = traceback.StackSummary.from_list(
        [f for f in tb.stack if not os.path.abspath(f.filename).startswith(_CORE_DIR)]
    )
    return "".join(tb.format())
