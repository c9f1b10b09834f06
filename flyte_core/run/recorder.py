"""Records a run as it happens: a writer thread persists every change to the run store in batches
and then tells hooks and observers, in order.

The hot path only updates the action's small live state and puts a plain tuple on a queue; the
writer turns those into one row per action (the latest state in a batch wins) and writes a batch
in one transaction. An ordinary action (queued, running, succeeded) has no event rows: its phase
changes are read off its row's times. Retries, failures, aborts and side records (traces, durable
values) keep every change as event rows (the action is then ``explicit``). Finished actions are
not kept in memory, and the queue is bounded: producers wait when the writer falls behind.
Events for hooks and observers are built only when a plugin implements ``flyte_action_event`` or
an observer is attached. :meth:`Recorder.close` flushes everything before the run returns.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from typing import Any

import attrs

from flyte_core.errors.core import FlyteUsageError
from flyte_core.run.events import ActionEvent, RunEvent
from flyte_core.run.observers import RunObserver
from flyte_core.runstore.records import ActionRecord, CacheEntry, ErrorInfo, EventRecord, LogLine, Phase, RunRecord
from flyte_core.runstore.sqlrows import action_row as _row
from flyte_core.runstore.store import RunStore
from flyte_core.security.masking import mask

log = logging.getLogger("flyte")

_STOP = object()
#: Queue items taken per batch (one transaction).
_BATCH = 5000
#: Queue items at which producers wait for the writer (bounded memory under any load).
_MAX_QUEUED = 50_000
#: Group commit: when items come slowly (fewer than _SMALL since the last commit, at more than
#: _SLOW seconds apart), the writer waits until _COMMIT_EVERY after the last commit for more. A commit
#: costs about as much as writing a hundred rows, so actions that end a few at a time (on
#: containers, say) are written together. Items that come fast are written as they are: waiting
#: would keep more rows alive, which costs the collector more than it saves. A kill -9 loses at most
#: _COMMIT_EVERY more.
_COMMIT_EVERY, _SMALL, _SLOW = 0.01, 32, 0.0002
_QUEUED, _RUNNING, _SUCCEEDED = Phase.QUEUED, Phase.RUNNING, Phase.SUCCEEDED
_CACHE_HIT = "cache hit"


class _Live:
    """The state of one unfinished action (its row, before the writer encodes it)."""

    __slots__ = (
        "action",
        "attempts",
        "cache_hit",
        "created_at",
        "ended_at",
        "error",
        "explicit",
        "group",
        "inputs",
        "outputs",
        "parent",
        "phase",
        "recovered_from",
        "run",
        "started_at",
        "task",
    )

    def __init__(self, r: ActionRecord, explicit: bool) -> None:
        self.run, self.action, self.parent, self.task = r.run, r.action, r.parent, r.task
        self.phase, self.attempts, self.group, self.created_at = r.phase, r.attempts, r.group, r.created_at
        self.started_at, self.ended_at, self.inputs, self.outputs = r.started_at, r.ended_at, r.inputs, r.outputs
        self.error, self.cache_hit, self.recovered_from = r.error, r.cache_hit, r.recovered_from
        self.explicit = explicit

    @classmethod
    def of(cls, s: tuple[Any, ...]) -> _Live:
        """The live state of an action kept as a snapshot tuple so far (see :meth:`Recorder.queued_running`)."""
        live = cls.__new__(cls)
        (live.run, live.action, live.parent, live.task, live.phase, live.attempts, live.group, live.created_at,
         live.started_at, live.ended_at, live.inputs, live.outputs, live.error, live.cache_hit, live.recovered_from,
         live.explicit) = s
        return live

    def snapshot(self) -> tuple[Any, ...]:
        """The state now, as a plain tuple (in ``ACTION_COLUMNS`` order, literals not yet encoded)."""
        return (self.run, self.action, self.parent, self.task, self.phase, self.attempts, self.group,
                self.created_at, self.started_at, self.ended_at, self.inputs, self.outputs, self.error,
                self.cache_hit, self.recovered_from, self.explicit)


def _record(s: tuple[Any, ...]) -> ActionRecord:
    return ActionRecord(*s[:15])  # the snapshot's fields in the record's order, then `explicit`


class Recorder:
    """The live state of one run and the thread that writes it down."""

    def __init__(self, store: RunStore, hook: Any, observers: list[RunObserver], run: RunRecord) -> None:
        self.store = store
        self._hook = hook
        self._observers = observers
        self.run = run
        #: Unfinished actions only: a finished one is in the store (or on its way there). An action
        #: started by :meth:`queued_running` is its snapshot tuple until anything but success happens.
        self._live: dict[str, _Live | tuple[Any, ...]] = {}
        self._lock = threading.Lock()
        self._store_failed = False
        # Checked once per run: building events nobody receives is most of the cost of telling them.
        self._hook_actions = _implemented(hook, "flyte_action_event")
        # Observers that show states, not transitions (a progress display), set `latest_only`: they
        # are told each action's latest state once per batch instead of each of its phase changes
        # (a sync call is queued, running and succeeded within one batch: one event, not three).
        self._every = [o for o in observers if not getattr(o, "latest_only", False)]
        self._latest = [o for o in observers if getattr(o, "latest_only", False)]
        self._tell_every = bool(self._every) or self._hook_actions
        self._tell_actions = self._tell_every or bool(self._latest)
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._room = threading.Event()
        self._closing = threading.Event()  # wakes a writer that waits to gather a batch
        self._thread = threading.Thread(target=self._write_loop, name=f"flyte-recorder-{run.name}", daemon=True)
        self._thread.start()

    # --- producers (any thread) ------------------------------------------------------------

    def update_run(self, **changes: Any) -> RunRecord:
        """Change the run record; a phase change is also told to observers."""
        if changes.get("error") is not None:
            changes["error"] = _masked(changes["error"])
        with self._lock:
            self.run = attrs.evolve(self.run, **changes)
            run = self.run
        self._put(("run", run, "phase" in changes))
        return run

    def new_action(self, record: ActionRecord) -> None:
        """Add an action (normally in phase QUEUED; any other start makes its changes explicit)."""
        live = _Live(record, explicit=record.phase is not _QUEUED)
        if not record.phase.is_terminal:
            with self._lock:
                self._live[record.action] = live
        ev = (record.phase, 0, record.created_at, "")
        self._put(("action", live.snapshot(), ev))

    def queued(self, run: str, action: str, parent: str | None, task: str, group: str | None, created: float,
               inputs: dict[str, Any]) -> None:
        """:meth:`new_action` for the common case (a task call just made), without a record."""
        live = _Live.__new__(_Live)
        live.run, live.action, live.parent, live.task, live.phase, live.attempts = run, action, parent, task, _QUEUED, 0
        live.group, live.created_at, live.started_at, live.ended_at = group, created, None, None
        live.inputs, live.outputs, live.error, live.cache_hit, live.recovered_from = inputs, None, None, False, None
        live.explicit = False
        self._live[action] = live  # one key set: atomic under the GIL
        self._put(("action", live.snapshot(), (_QUEUED, 0, created, "")))

    def queued_running(self, run: str, action: str, parent: str | None, task: str, group: str | None,
                       created: float, inputs: dict[str, Any], at: float) -> None:
        """:meth:`queued` then :meth:`started` (attempt 1, at ``at``) as one change: a call with
        nothing to look up in between (most calls). Hooks and observers are still told both."""
        # Kept as this tuple (no _Live) until something other than success happens to the action.
        snap = (run, action, parent, task, _RUNNING, 1, group, created, at, None, inputs, None, None, False, None,
                False)
        self._live[action] = snap
        self._put(("started", snap, (_RUNNING, 1, at, "")))

    def served_at_once(self, run: str, action: str, parent: str | None, task: str, group: str | None,
                       created: float, inputs: dict[str, Any], at: float, outputs: dict[str, Any]) -> None:
        """:meth:`queued` then :meth:`served` as one change: a call whose lookup found its outputs
        (a cache hit) is one row. Hooks and observers are still told both."""
        self._put(("served", (run, action, parent, task, _SUCCEEDED, 0, group, created, at, at, inputs, outputs,
                              None, True, None, False), (_SUCCEEDED, 0, at, mask(_CACHE_HIT))))

    def started(self, action: str, attempt: int, at: float) -> None:
        """The action's attempt ``attempt`` started running."""
        live = self._unpacked(action, self._live.get(action))
        if live is None:
            return
        if attempt > 1 and not live.explicit:
            self._go_explicit(live)
        live.phase, live.started_at = _RUNNING, at
        if attempt > live.attempts:
            live.attempts = attempt
        self._put(("action", live.snapshot(), (_RUNNING, attempt, at, "")))

    def succeeded(self, action: str, attempt: int, at: float, outputs: dict[str, Any]) -> None:
        """The action's attempt ``attempt`` succeeded with ``outputs`` (literals)."""
        live = self._live.pop(action, None)
        if type(live) is tuple:  # the common case: queued and running so far
            attempts = attempt if attempt > live[5] else live[5]
            self._put(("action", (*live[:4], _SUCCEEDED, attempts, live[6], live[7], live[8], at, live[10], outputs,
                                  *live[12:]), (_SUCCEEDED, attempt, at, "")))
            return
        if not isinstance(live, _Live):
            return
        live.phase, live.ended_at, live.outputs = _SUCCEEDED, at, outputs
        if attempt > live.attempts:
            live.attempts = attempt
        self._put(("action", live.snapshot(), (_SUCCEEDED, attempt, at, "")))

    def served(self, action: str, at: float, outputs: dict[str, Any]) -> None:
        """The action was served from the cache at ``at`` (no attempt ran): :meth:`update_action` to
        SUCCEEDED with message "cache hit", for the common case."""
        live = self._unpacked(None, self._live.pop(action, None))
        if live is None:
            return
        live.phase, live.started_at, live.ended_at, live.outputs, live.cache_hit = _SUCCEEDED, at, at, outputs, True
        self._put(("action", live.snapshot(), (_SUCCEEDED, 0, at, mask(_CACHE_HIT))))

    def update_action(self, action: str, phase: Phase, attempt: int, message: str = "", **changes: Any) -> None:
        """Move an action to ``phase`` (with any other field changes) and record the event."""
        now = time.time()
        if changes.get("error") is not None:
            changes["error"] = _masked(changes["error"])
        if message:
            message = mask(message)
        with self._lock:
            live = self._unpacked(None if phase.is_terminal else action,
                                  self._live.pop(action, None) if phase.is_terminal else self._live.get(action))
        if live is None:
            return
        unusual = (phase is not _SUCCEEDED and not (phase is _RUNNING and attempt <= 1)) or attempt > 1
        if unusual and not live.explicit:
            self._go_explicit(live)
        live.phase = phase
        if attempt > live.attempts:
            live.attempts = attempt
        for name, value in changes.items():
            setattr(live, name, value)
        self._put(("action", live.snapshot(), (phase, attempt, now, message)))

    def cache_entry(self, entry: CacheEntry) -> None:
        """Index a new cache entry in the run store with the run's next batch (in the same
        transaction as the action that made it) instead of in a transaction of its own."""
        self._put(("cache", entry, None))

    def log(self, action: str, attempt: int, stream: str, text: str) -> None:
        """Record what an action printed or logged (one or more lines); secret values are masked."""
        now = time.time()
        for line in mask(text).splitlines():
            self._put(("log", LogLine(self.run.name, action, attempt, now, stream, line), None))

    def close(self) -> None:
        """Flush every pending change, tell observers the run is over, and stop the writer."""
        if self._thread.is_alive():
            self._q.put((_STOP, None, None))
            self._closing.set()
            self._thread.join()
        late: list[tuple[Any, Any, Any]] = []  # put by a thread that raced the close: written here
        with contextlib.suppress(queue.Empty):
            while True:
                late.append(self._q.get_nowait())
        if late:
            self._persist([item for item in late if item[0] is not _STOP])
        for obs in self._observers:
            _safely(obs.close)

    def _unpacked(self, action: str | None, live: _Live | tuple[Any, ...] | None) -> _Live | None:
        """``live`` as a :class:`_Live` (made from its snapshot tuple if it is one, and kept for
        ``action`` unless None: the action was taken out of the live set)."""
        if type(live) is tuple:
            live = _Live.of(live)
            if action is not None:
                self._live[action] = live
        return live  # type: ignore[return-value]

    def _go_explicit(self, live: _Live) -> None:
        """From now on every change of this action is an event row; the ordinary ones it had so far
        (queued, then running for attempt 1) are written as rows too."""
        live.explicit = True
        snap = live.snapshot()
        self._put(("event", snap, (_QUEUED, 0, live.created_at, "")))
        if live.started_at is not None and live.attempts >= 1:
            self._put(("event", snap, (_RUNNING, 1, live.started_at, "")))

    def _put(self, item: tuple[Any, Any, Any]) -> None:
        if self._q.qsize() > _MAX_QUEUED and threading.current_thread() is not self._thread:
            while self._q.qsize() > _MAX_QUEUED // 2 and self._thread.is_alive():  # push back
                self._room.clear()
                self._room.wait(0.05)
        self._q.put(item)

    # --- the writer thread -----------------------------------------------------------------

    def _write_loop(self) -> None:
        stop, get, clock = False, self._q.get, time.monotonic
        last = ready = 0.0  # when the last commit began; when the writer was free again
        while not stop:
            items = [get()]
            stop = self._drain(items)
            # Items coming slowly, soon after the last commit: let more gather (see _COMMIT_EVERY).
            # A plain wait, not one per item (waking for each would cost the producers the GIL),
            # cut short by close().
            now = clock()
            if (not stop and len(items) < _SMALL and now - ready > len(items) * _SLOW
                    and (wait := last + _COMMIT_EVERY - now) > 0):
                self._closing.wait(wait)
                stop = self._drain(items)
            last = clock()
            told = self._persist(items)
            self._room.set()
            if self._tell_actions:
                self._notify(items)
            else:  # nobody listens to actions or logs: only the run's phase changes go to the hook
                for run in told:
                    _safely(self._hook.flyte_run_event, event=RunEvent(run, run.phase))
            ready = clock()
        self.store.release_connection()  # the next run's writer takes it over

    def _drain(self, items: list[tuple[Any, Any, Any]]) -> bool:
        """Add what the queue holds now to ``items`` (up to a batch); True once the stop item is among them."""
        more, add, first = self._q.get_nowait, items.append, len(items) - 1  # the last one is new too
        try:
            while len(items) < _BATCH:
                add(more())
        except queue.Empty:
            pass
        return any(items[i][0] is _STOP for i in range(first, len(items)))

    def _persist(self, items: list[tuple[Any, Any, Any]]) -> list[RunRecord]:
        """Write ``items`` in one batch; return the run records among them that changed phase."""
        told: list[RunRecord] = []
        runs: dict[str, RunRecord] = {}
        actions: dict[str, tuple[Any, ...]] = {}
        events: list[EventRecord] = []
        logs: list[LogLine] = []
        cache: list[CacheEntry] = []
        for kind, obj, extra in items:
            if kind == "action" or kind == "started" or kind == "served":
                actions[obj[1]] = obj  # the latest state of each action wins
                if obj[15]:  # explicit: every change is an event row
                    events.append(EventRecord(obj[0], obj[1], extra[0], extra[1], extra[2], extra[3]))
            elif kind == "event":
                events.append(EventRecord(obj[0], obj[1], extra[0], extra[1], extra[2], extra[3]))
            elif kind == "run":
                runs[obj.name] = obj
                if extra:
                    told.append(obj)
            elif kind == "log":
                logs.append(obj)
            elif kind == "cache":
                cache.append(obj)
        try:
            for run in runs.values():
                self.store.put_run(run)
            rows = [_row(s) for s in actions.values()]
            if cache:
                self.store.write_batch(rows, events, logs, cache=cache)
            else:  # as a store written before write_batch took cache entries is called
                self.store.write_batch(rows, events, logs)
        except FlyteUsageError as e:  # e.g. a damaged store: its one-line message, once per run
            if not self._store_failed:
                log.error("%s", e)
            self._store_failed = True
        except Exception:  # the run goes on; the failure is visible in the log
            log.exception("flyte-core could not write to the run store %r", self.store)
        return told

    def _notify(self, items: list[tuple[Any, Any, Any]]) -> None:
        # For `latest_only` observers: action -> its latest (snapshot, extra) in this batch, in the
        # order of first appearance (the order a display lists new actions in), except that the end
        # of an action with children in the batch goes after theirs (a parent ends after its
        # children). Told before a run event, which comes after them.
        latest: dict[str, tuple[Any, Any]] = {}
        parents: set[str | None] = set()
        for kind, obj, extra in items:
            if kind == "run" and extra:
                if latest:
                    self._tell_latest(latest)
                    latest = {}
                ev = RunEvent(obj, obj.phase)
                _safely(self._hook.flyte_run_event, event=ev)
                for obs in self._observers:
                    _safely(obs.on_run, ev)
            elif kind == "action" or kind == "started" or kind == "served":
                if self._latest:
                    action = obj[1]
                    if action in parents and action in latest and obj[4].is_terminal:
                        del latest[action]
                    latest[action] = (obj, extra)
                    parents.add(obj[2])
                if not self._tell_every:
                    continue
                if kind != "action":  # the queued state first
                    queued = (*obj[:4], _QUEUED, 0, obj[6], obj[7], None, None, obj[10], None, None, False, *obj[14:])
                    self._tell(queued, (_QUEUED, 0, obj[7], ""))
                self._tell(obj, extra)
            elif kind == "log":
                for obs in self._observers:
                    _safely(obs.on_log, obj.action, obj.stream, obj.line)
        if latest:
            self._tell_latest(latest)

    def _tell(self, snapshot: tuple[Any, ...], extra: tuple[Any, ...]) -> None:
        """Tell the hook and the observers that see every change about one phase change."""
        aev = ActionEvent(snapshot[0], _record(snapshot), *extra)
        if self._hook_actions:  # a progress display alone does not pay for calling an unimplemented hook
            try:  # _safely, written out: this runs for every phase change of every action
                self._hook.flyte_action_event(event=aev)
            except Exception:
                log.exception("flyte observer %r failed", self._hook.flyte_action_event)
        for obs in self._every:
            _safely(obs.on_action, aev)

    def _tell_latest(self, latest: dict[str, tuple[Any, Any]]) -> None:
        """Tell the ``latest_only`` observers each action's latest state."""
        for snapshot, extra in latest.values():
            aev = ActionEvent(snapshot[0], _record(snapshot), *extra)
            for obs in self._latest:
                _safely(obs.on_action, aev)


def _implemented(hook: Any, name: str) -> bool:
    """Whether any plugin implements the hook ``name`` (a pluggy hook relay; anything else: assume so)."""
    caller = getattr(hook, name, None)
    get = getattr(caller, "get_hookimpls", None)
    return True if get is None else bool(get())


def _masked(error: ErrorInfo) -> ErrorInfo:
    """``error`` with secret values hidden in its message and traceback."""
    message, tb = mask(error.message), mask(error.traceback)
    if message == error.message and tb == error.traceback:
        return error
    return attrs.evolve(error, message=message, traceback=tb)


def _safely(fn: Any, *args: Any, **kwargs: Any) -> None:
    try:
        fn(*args, **kwargs)
    except Exception:  # an observer's bug must not break the run
        log.exception("flyte observer %r failed", fn)
