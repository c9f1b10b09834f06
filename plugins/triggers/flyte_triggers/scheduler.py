"""The local scheduler: fires the scheduled triggers of a set of tasks while it runs, each firing a
new run in the session's run store, labelled with the trigger and its scheduled time."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import attrs

from flyte_core.extend import (
    ActionEvent,
    Cron,
    FixedRate,
    FlyteUsageError,
    RunEvent,
    RunOptions,
    Session,
    TaskTemplate,
    Trigger,
    TriggerTime,
    task_triggers,
)
from flyte_triggers.schedule import check, next_fire

log = logging.getLogger("flyte.triggers")

#: Run labels a triggered run carries (besides the trigger's own ``labels``).
TRIGGER_LABEL = "flyte.trigger"
TASK_LABEL = "flyte.trigger.task"
TIME_LABEL = "flyte.trigger.time"


@attrs.frozen
class Firing:
    """One firing of a trigger: which, for which task, its scheduled time and the run it started
    (``run`` is None and ``error`` says why when the run could not start)."""

    trigger: str
    task: str
    scheduled: datetime
    run: str | None
    error: str | None = None


@attrs.define(eq=False)
class _Entry:
    task: TaskTemplate[Any, Any]
    trigger: Trigger
    next: datetime


def scheduled_triggers(tasks: Iterable[TaskTemplate[Any, Any]]) -> list[tuple[TaskTemplate[Any, Any], Trigger]]:
    """The (task, trigger) pairs with a Cron or FixedRate automation, whatever ``auto_activate`` says."""
    return [(t, trig) for t in tasks for trig in task_triggers(t) if isinstance(trig.automation, Cron | FixedRate)]


class TriggerScheduler:
    """Fires the active scheduled triggers of ``tasks`` on ``session`` until :meth:`stop`.

    Each firing starts a run in its own thread (runs of slow tasks may overlap, as on a Flyte
    cluster); firings missed while the scheduler was not running are not replayed. ``on_fire`` is
    called (from the firing's thread) when a firing's run has started and again when it ended.
    """

    def __init__(
        self, session: Session, tasks: Iterable[TaskTemplate[Any, Any]], *, backend: str | None = None,
        names: Iterable[str] = (), on_fire: Callable[[Firing, str], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.session = session
        self.backend = backend
        self.on_fire = on_fire
        self._clock = clock
        wanted = set(names)
        pairs = scheduled_triggers(tasks)
        unknown = wanted - {trig.name for _, trig in pairs}
        if unknown:
            raise FlyteUsageError(f"No scheduled trigger named {', '.join(sorted(unknown))}; known: "
                                  f"{', '.join(sorted({trig.name for _, trig in pairs})) or 'none'}.")
        # Named triggers fire even when auto_activate=False; otherwise only the auto-activated ones.
        self.pairs = [(t, trig) for t, trig in pairs if (trig.name in wanted if wanted else trig.auto_activate)]
        for task, trig in self.pairs:
            check(trig)
            _check_inputs(task, trig)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._live: dict[str, threading.Thread] = {}  # run name -> the thread driving it
        self._threads: list[threading.Thread] = []
        self._started: set[str] = set()  # runs whose record exists
        self._aborting = False
        self.firings: list[Firing] = []

    def run(self, max_firings: int | None = None) -> list[Firing]:
        """Fire on schedule until :meth:`stop` (or ``max_firings`` firings), then wait for the runs
        started; returns every firing. Blocks the calling thread; interrupted (Ctrl-C), it aborts the
        runs still going first."""
        if not self.pairs:
            raise FlyteUsageError("No active scheduled triggers to run (attach flyte.Trigger(..., automation="
                                  "flyte.Cron(...) or flyte.FixedRate(...)) with @env.task(triggers=...)).")
        start = self._clock()
        entries = [_Entry(t, trig, next_fire(trig, start, start)) for t, trig in self.pairs]
        fired = 0
        try:
            while not self._stop.is_set() and (max_firings is None or fired < max_firings):
                entry = min(entries, key=lambda e: e.next)
                delay = (entry.next - self._clock()).total_seconds()
                if delay > 0 and self._stop.wait(delay):
                    break
                self._fire(entry.task, entry.trigger, entry.next)
                fired += 1
                # The next time after the one just fired, but never in the past: a late scheduler skips.
                entry.next = next_fire(entry.trigger, max(entry.next, self._clock()), start)
        except BaseException:  # Ctrl-C: stop, and leave no run going
            self.stop(abort=True)
            raise
        finally:
            self._join()
        return list(self.firings)

    def stop(self, abort: bool = True) -> None:
        """Stop firing; with ``abort``, also abort the runs still going, and those about to start
        (:meth:`run` waits for them to end)."""
        self._stop.set()
        if abort:
            with self._lock:
                self._aborting = True
                names = [n for n in self._live if n in self._started]
            for name in names:
                self._abort(name)

    def _abort(self, name: str) -> None:
        try:
            self.session.abort(name)
        except Exception as e:  # the run may have ended meanwhile
            log.debug("abort of %s: %s", name, e)

    def _on_started(self, name: str) -> None:
        """A run's record exists (so it can be aborted): abort it at once if the scheduler is stopping."""
        with self._lock:
            self._started.add(name)
            late = self._aborting
        if late:  # not on the recorder thread that told us
            t = threading.Thread(target=self._abort, args=(name,), daemon=True, name=f"flyte-trigger-abort-{name}")
            with self._lock:
                self._threads.append(t)
            t.start()

    def _fire(self, task: TaskTemplate[Any, Any], trig: Trigger, when: datetime) -> None:
        name = "r" + secrets.token_hex(5)
        options, inputs = run_request(task, trig, when, self.backend, name, (_StartWatch(name, self._on_started),))
        thread = threading.Thread(target=self._drive, args=(task, trig, when, options, inputs), daemon=True,
                                  name=f"flyte-trigger-{trig.name}-{name}")
        with self._lock:
            self._live[name] = thread
            self._threads.append(thread)
        thread.start()

    def _drive(self, task: TaskTemplate[Any, Any], trig: Trigger, when: datetime, options: RunOptions,
               inputs: dict[str, Any]) -> None:
        assert options.name is not None
        firing = Firing(trig.name, task.name, when, options.name)
        with self._lock:
            self.firings.append(firing)
        self._notify(firing, "started")
        try:
            self.session.run_with(options, task, (), inputs)
            self._notify(firing, "succeeded")
        except Exception as e:  # the run's failure is in the run store; the schedule goes on
            rec = self.session.get_run(options.name)
            phase = str(rec.phase) if rec is not None else "failed"
            if rec is None:  # it never started: say why
                firing = attrs.evolve(firing, run=None, error=f"{type(e).__name__}: {e}")
                with self._lock:
                    self.firings = [firing if f.run == options.name else f for f in self.firings]
            self._notify(firing, phase)
        finally:
            with self._lock:
                self._live.pop(options.name, None)

    def _notify(self, firing: Firing, what: str) -> None:
        if self.on_fire is not None:
            try:
                self.on_fire(firing, what)
            except Exception:
                log.exception("on_fire callback failed")

    def _join(self) -> None:
        while True:
            with self._lock:
                threads = [t for t in self._threads if t.is_alive()]
            if not threads:
                return
            for t in threads:
                t.join()


def run_request(task: TaskTemplate[Any, Any], trig: Trigger, when: datetime, backend: str | None, name: str,
                observers: tuple[Any, ...] = ()) -> tuple[RunOptions, dict[str, Any]]:
    """The options and inputs of the run a firing of ``trig`` at ``when`` starts."""
    inputs = {k: (when if v is TriggerTime else v) for k, v in (trig.inputs or {}).items()}
    labels = {**(trig.labels or {}), TRIGGER_LABEL: trig.name, TASK_LABEL: task.name, TIME_LABEL: when.isoformat()}
    options = RunOptions(
        backend=backend, name=name, env_vars=dict(trig.env_vars or {}), labels=labels,
        custom_context={k: str(v) for k, v in (trig.custom_context or {}).items()},
        overwrite_cache=trig.overwrite_cache, max_action_concurrency=trig.max_action_concurrency or None,
        observers=observers,
    )
    return options, inputs


def fire_once(session: Session, tasks: Iterable[TaskTemplate[Any, Any]], trigger: str, *,
              when: datetime | None = None, backend: str | None = None) -> list[Firing]:
    """Fire trigger ``trigger`` now (its scheduled time ``when``, default now) for every task it is
    attached to, and wait for the runs; on-demand triggers (no automation) fire this way too."""
    pairs = [(t, trig) for t in tasks for trig in task_triggers(t) if trig.name == trigger]
    if not pairs:
        known = sorted({trig.name for t in tasks for trig in task_triggers(t)})
        raise FlyteUsageError(f"No trigger named {trigger}; known: {', '.join(known) or 'none'}.")
    when = when or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    firings: list[Firing] = []
    for task, trig in pairs:
        if not isinstance(trig.automation, Cron | FixedRate | None):
            raise FlyteUsageError(f"Trigger '{trig.name}' fires on new artifact versions, which need Flyte's "
                                  "artifact service; it cannot be fired here.")
        _check_inputs(task, trig)
        name = "r" + secrets.token_hex(5)
        options, inputs = run_request(task, trig, when, backend, name)
        try:
            session.run_with(options, task, (), inputs)
            firings.append(Firing(trig.name, task.name, when, name))
        except Exception as e:
            started = session.get_run(name) is not None
            firings.append(Firing(trig.name, task.name, when, name if started else None,
                                  None if started else f"{type(e).__name__}: {e}"))
    return firings


class _StartWatch:
    """Tells the scheduler when a run's first event arrives (its record exists from then on)."""

    def __init__(self, name: str, started: Callable[[str], None]) -> None:
        self.name = name
        self._started = started
        self._told = False

    def on_run(self, event: RunEvent) -> None:
        if not self._told:
            self._told = True
            self._started(self.name)

    def on_action(self, event: ActionEvent) -> None:
        pass

    def on_log(self, action: str, stream: str, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _check_inputs(task: TaskTemplate[Any, Any], trig: Trigger) -> None:
    """Every required input of the task must come from the trigger."""
    given = set(trig.inputs or {})
    missing = [i.name for i in task.interface.inputs if i.required and i.name not in given]
    if missing:
        raise FlyteUsageError(f"Trigger '{trig.name}' cannot start task '{task.name}': it gives no value for the "
                              f"required input(s) {', '.join(missing)}; add them to Trigger(inputs=...) (use "
                              "flyte.TriggerTime for the scheduled time).")
