"""Records a run as it happens: keeps the live state in memory, and a writer thread persists every
change to the run store in batches and then tells hooks and observers, in order.

Batching keeps per-action tracking cheap on the hot path (a queue put), while every state change
still reaches the store; :meth:`Recorder.close` flushes everything before the run returns.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import attrs

from flyte_core.errors.core import FlyteUsageError
from flyte_core.run.events import ActionEvent, RunEvent
from flyte_core.run.observers import RunObserver
from flyte_core.runstore.records import ActionRecord, ErrorInfo, EventRecord, LogLine, Phase, RunRecord
from flyte_core.runstore.store import RunStore
from flyte_core.security.masking import mask

log = logging.getLogger("flyte")

_STOP = object()
_BATCH = 500


class Recorder:
    """The live state of one run and the thread that writes it down."""

    def __init__(self, store: RunStore, hook: Any, observers: list[RunObserver], run: RunRecord) -> None:
        self.store = store
        self._hook = hook
        self._observers = observers
        self.run = run
        self.actions: dict[str, ActionRecord] = {}
        self._lock = threading.Lock()
        self._store_failed = False
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
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
        self._q.put(("run", run, "phase" in changes))
        return run

    def new_action(self, record: ActionRecord) -> None:
        """Add an action (normally in phase QUEUED)."""
        with self._lock:
            self.actions[record.action] = record
        self._q.put(("action", record, EventRecord(record.run, record.action, record.phase, 0, record.created_at)))

    def update_action(self, action: str, phase: Phase, attempt: int, message: str = "", **changes: Any) -> ActionRecord:
        """Move an action to ``phase`` (with any other field changes) and record the event."""
        now = time.time()
        if changes.get("error") is not None:
            changes["error"] = _masked(changes["error"])
        message = mask(message)
        with self._lock:
            rec = attrs.evolve(self.actions[action], phase=phase, attempts=max(attempt, self.actions[action].attempts),
                               **changes)
            self.actions[action] = rec
        self._q.put(("action", rec, EventRecord(rec.run, action, phase, attempt, now, message)))
        return rec

    def log(self, action: str, attempt: int, stream: str, text: str) -> None:
        """Record what an action printed or logged (one or more lines); secret values are masked."""
        now = time.time()
        for line in mask(text).splitlines():
            self._q.put(("log", LogLine(self.run.name, action, attempt, now, stream, line), None))

    def close(self) -> None:
        """Flush every pending change, tell observers the run is over, and stop the writer."""
        if self._thread.is_alive():
            self._q.put((_STOP, None, None))
            self._thread.join()
        for obs in self._observers:
            _safely(obs.close)

    # --- the writer thread -----------------------------------------------------------------

    def _write_loop(self) -> None:
        stop = False
        while not stop:
            items = [self._q.get()]
            while len(items) < _BATCH:
                try:
                    items.append(self._q.get_nowait())
                except queue.Empty:
                    break
            stop = any(kind is _STOP for kind, _, _ in items)
            self._persist(items)
            self._notify(items)

    def _persist(self, items: list[tuple[Any, Any, Any]]) -> None:
        runs: dict[str, RunRecord] = {}
        actions: dict[str, ActionRecord] = {}
        events: list[EventRecord] = []
        logs: list[LogLine] = []
        for kind, obj, extra in items:
            if kind == "run":
                runs[obj.name] = obj
            elif kind == "action":
                actions[obj.action] = obj  # the latest state of each action wins
                events.append(extra)
            elif kind == "log":
                logs.append(obj)
        try:
            for run in runs.values():
                self.store.put_run(run)
            if actions:
                self.store.put_actions(list(actions.values()))
            if events:
                self.store.add_events(events)
            if logs:
                self.store.add_logs(logs)
        except FlyteUsageError as e:  # e.g. a damaged store: its one-line message, once per run
            if not self._store_failed:
                log.error("%s", e)
            self._store_failed = True
        except Exception:  # the run goes on; the failure is visible in the log
            log.exception("flyte-core could not write to the run store %r", self.store)

    def _notify(self, items: list[tuple[Any, Any, Any]]) -> None:
        for kind, obj, extra in items:
            if kind == "run" and extra:
                ev = RunEvent(obj, obj.phase)
                _safely(self._hook.flyte_run_event, event=ev)
                for obs in self._observers:
                    _safely(obs.on_run, ev)
            elif kind == "action":
                aev = ActionEvent(obj.run, obj, extra.phase, extra.attempt, extra.at, extra.message)
                _safely(self._hook.flyte_action_event, event=aev)
                for obs in self._observers:
                    _safely(obs.on_action, aev)
            elif kind == "log":
                for obs in self._observers:
                    _safely(obs.on_log, obj.action, obj.stream, obj.line)


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
