"""The direct path of the controller: a call with no retry or timeout, in a run that recovers
nothing and bounds no concurrency (most calls), runs as straight-line code, without the attempt
generator the general path drives: queued, a cache lookup if the task caches, one attempt, done.

:class:`DirectPath` is a part of :class:`~flyte_core.run.controller.Controller` (its base class),
kept apart so each reads on its own; it uses the controller's recorder, reuse, backend and loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from flyte_core.errors.core import BaseRuntimeError, FlyteUsageError, RuntimeSystemError
from flyte_core.run.backend import ActionOutcome, ActionSpec, Backend
from flyte_core.run.concurrency import ActionSlots
from flyte_core.run.memo import Claim, Hit, Reuse
from flyte_core.run.recorder import Recorder
from flyte_core.run.running import RunningActions
from flyte_core.run.settings import UnhonouredNotices
from flyte_core.runstore.records import ErrorInfo, Phase
from flyte_core.runtime.loopthread import LoopThread
from flyte_core.task.template import TaskTemplate

if TYPE_CHECKING:
    from flyte_core.run.controller import _Call

log = logging.getLogger("flyte")


class DirectPath:
    """The direct path's methods; the attributes and methods below are the controller's."""

    run_name: str
    backend: Backend
    recorder: Recorder
    loop: LoopThread
    reuse: Reuse
    slots: ActionSlots
    unhonoured: UnhonouredNotices
    running: RunningActions
    _inline: bool | None
    _plain: dict[int, tuple[bool, bool, TaskTemplate[Any, Any]]]

    def _spec(self, call: _Call, attempt: int) -> ActionSpec:
        raise NotImplementedError

    async def _execute(self, spec: ActionSpec) -> ActionOutcome:
        raise NotImplementedError

    def _cancel_leftovers(self, action: str) -> None:
        raise NotImplementedError

    def _fail(self, call: _Call, attempt: int, error: ErrorInfo, retries: int) -> NoReturn:
        raise NotImplementedError

    def _is_plain(self, task: TaskTemplate[Any, Any]) -> bool:
        """Whether calls of ``task`` take the direct path: a task without retries or timeout, in a
        run that recovers nothing and bounds no concurrency (checked once per task)."""
        known = self._plain.get(id(task))
        if known is None:
            plain = (task.retries.count == 0 and task.timeout is None
                     and not self.reuse.recovering and not self.slots.limit)
            looks_up = self.reuse.cache is not None and task.cache.is_enabled()
            known = self._plain[id(task)] = (plain, looks_up, task)
        return known[0]

    def _looks_up(self, task: TaskTemplate[Any, Any]) -> bool:
        """Whether a direct call of ``task`` may be served from the cache (see :meth:`Reuse.claim`)."""
        return self._plain[id(task)][1]

    def _served(self, action: str, claim: Claim | None, hit: Hit) -> Mapping[str, Any]:
        """Record ``action`` as served from the cache (or an identical call) and return its outputs."""
        self.recorder.served(action, time.time(), dict(hit.outputs))
        self.reuse.release(claim, hit.outputs)
        return hit.outputs

    def _concluded(self, call: _Call, claim: Claim | None, outcome: ActionOutcome) -> Mapping[str, Any]:
        """Record the attempt's outcome, settle the cache claim, and return the outputs or raise."""
        action = call.action
        if outcome.error is None:
            outputs = dict(outcome.outputs or {})
            self.recorder.succeeded(action, 1, time.time(), outputs)
            self.reuse.finish(claim, outputs, self.run_name, action)
            return outputs
        self.reuse.finish(claim, None, self.run_name, action)
        self._fail(call, 1, outcome.error, 0)

    def _queued(self, call: _Call) -> tuple[bool, Claim | None]:
        """Record ``call`` queued, and claim its cache entry if its task caches. (True, claim) when
        a lookup or a call in flight comes next; (False, None) when nothing comes between queued
        and running (both recorded in one change) or when the cache had its outputs (queued and
        served recorded in one change: :attr:`_Call.served` holds them)."""
        task = call.task
        now = time.time()
        if not self._looks_up(task):
            self.recorder.queued_running(self.run_name, call.action, call.parent, task.name, call.group, now,
                                         call.inputs, now)
            return False, None
        claim = self.reuse.claim_or_outputs(task, call.inputs)
        if claim is not None and not isinstance(claim, Claim):  # the common hit: one row, nothing to wake
            call.served = claim
            self.recorder.served_at_once(self.run_name, call.action, call.parent, task.name, call.group, now,
                                         call.inputs, time.time(), dict(claim))
            return False, None
        self.recorder.queued(self.run_name, call.action, call.parent, task.name, call.group, now, call.inputs)
        return True, claim

    def _run_plain(self, call: _Call) -> Mapping[str, Any]:
        """One attempt, run in this thread when the backend can (else on the loop): the lifecycle
        of an action with no retry or timeout, without the attempt generator; a cache hit (or
        an identical call in flight) serves it without running."""
        task, rec, action = call.task, self.recorder, call.action
        self.unhonoured.check(task)
        looks_up, claim = self._queued(call)
        if call.served is not None:
            return call.served
        if looks_up:
            if claim is not None:
                hit = self.reuse.cached(claim)
                if hit is None and claim.wait is not None:  # an identical call is running: share its result
                    with self.backend.blocked():
                        waited = claim.wait.result()
                    if waited is not None:
                        hit = Hit(waited, cache_hit=True)
                    else:  # it failed: this call runs (and caches) on its own
                        claim = self.reuse.claim(task, call.inputs)
                if hit is not None:
                    return self._served(action, claim, hit)
            rec.started(action, 1, time.time())
        spec = self._spec(call, 1)
        try:
            try:
                outcome = self.backend.execute_inline(spec)
            except (FlyteUsageError, BaseRuntimeError):
                raise
            except Exception as e:
                outcome = system_failure(spec, e)
            self._inline = outcome is not None
            if outcome is None:  # the backend cannot run it in this thread
                with self.backend.blocked():
                    outcome = self.loop.submit(self._execute(spec)).result()
        except BaseException:
            rec.update_action(action, Phase.ABORTED, 1, ended_at=time.time())
            self.reuse.finish(claim, None, self.run_name, action)
            raise
        finally:
            if self.running.has_children(action):
                self._cancel_leftovers(action)
        return self._concluded(call, claim, outcome)

    async def _run_plain_async(self, call: _Call) -> Mapping[str, Any]:
        """:meth:`_run_plain` on the run's loop (an awaited call): one attempt through the backend."""
        task, rec, action, parent = call.task, self.recorder, call.action, call.parent
        self.unhonoured.check(task)
        self.running.started(action, parent)
        claim = None
        try:
            looks_up, claim = self._queued(call)
            if call.served is not None:
                return call.served
            if looks_up:
                if claim is not None:
                    hit = self.reuse.cached(claim)
                    if hit is None and claim.wait is not None:  # an identical call is running: share its result
                        waited = await asyncio.wrap_future(claim.wait)
                        if waited is not None:
                            hit = Hit(waited, cache_hit=True)
                        else:  # it failed: this call runs (and caches) on its own
                            claim = self.reuse.claim(task, call.inputs)
                    if hit is not None:
                        return self._served(action, claim, hit)
                rec.started(action, 1, time.time())
            spec = self._spec(call, 1)
            try:
                outcome = await self.backend.execute(spec)
            except (asyncio.CancelledError, FlyteUsageError, BaseRuntimeError):
                raise
            except Exception as e:  # the backend itself broke: a system error
                outcome = system_failure(spec, e)
        except BaseException:
            rec.update_action(action, Phase.ABORTED, 1, ended_at=time.time())
            self.reuse.finish(claim, None, self.run_name, action)
            raise
        finally:
            if self.running.has_children(action):
                self._cancel_leftovers(action)
            self.running.ended(action, parent)
        return self._concluded(call, claim, outcome)



def system_failure(spec: ActionSpec, e: Exception) -> ActionOutcome:
    """The outcome of an attempt the backend itself failed to run: a system error (retried like any other)."""
    log.debug("backend failure", exc_info=e)
    err = RuntimeSystemError(type(e).__name__, f"The backend failed to run action {spec.action}: {e}")
    return ActionOutcome(error=ErrorInfo(err.code, "system", str(err), action=spec.action))
