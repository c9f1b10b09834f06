"""Entries of a run's tree that are not task attempts: ``@flyte.trace`` calls and ``flyte.durable``
values. Each is recorded as a child action of the action that made it (``trace:<name>``,
``durable:<name>``), without a backend, retries or a cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flyte_core.run.body import error_info
from flyte_core.run.memo import Reuse
from flyte_core.run.recorder import Recorder
from flyte_core.runstore.records import ActionRecord, Phase
from flyte_core.types.engine import TypeEngine
from flyte_core.types.interface import NativeInterface
from flyte_core.types.transformer import ConversionContext


def _durable_entry(index: int) -> float:
    """The interface of a ``flyte.durable`` record: the call's index in, its value out."""
    raise NotImplementedError


_DURABLE = NativeInterface.from_function(_durable_entry, "durable")


class SideRecords:
    """Records traced calls and durable values of one run (see the module doc); ``next_id`` gives
    the next child id of an action, shared with the controller's task calls."""

    def __init__(self, run_name: str, recorder: Recorder, engine: TypeEngine, conversion: ConversionContext,
                 reuse: Reuse, next_id: Callable[[str], str]) -> None:
        self.run_name = run_name
        self.recorder = recorder
        self.engine = engine
        self.conversion = conversion
        self.reuse = reuse
        self.next_id = next_id
        self._lock = threading.Lock()
        #: (action, call index) -> (name, value) of the flyte.durable calls recorded in this run.
        self._durable: dict[tuple[str, int], tuple[str, float]] = {}

    def trace_started(self, parent: str, name: str) -> str:
        """Record the start of a ``@flyte.trace`` call made by ``parent``; returns its action id."""
        action = self.next_id(parent)
        now = time.time()
        self.recorder.new_action(ActionRecord(self.run_name, action, parent, f"trace:{name}", Phase.RUNNING,
                                              attempts=1, created_at=now, started_at=now))
        return action

    def trace_finished(self, action: str, error: BaseException | None) -> None:
        """Record how the traced call ``action`` ended."""
        if error is None:
            self.recorder.update_action(action, Phase.SUCCEEDED, 1, ended_at=time.time())
        else:
            self.recorder.update_action(action, Phase.FAILED, 1, ended_at=time.time(),
                                        error=error_info(error, action))

    def durable_value(self, parent: str, name: str, index: int, proposed: float) -> float:
        """The value of call ``index`` of ``flyte.durable.<name>`` in an attempt of ``parent``: the
        one recorded by an earlier attempt, or by the run this one recovers (recorded again here),
        else ``proposed``, recorded now as a ``durable:<name>`` child entry (see flyte_core.runtime.durable)."""
        with self._lock:
            known = self._durable.get((parent, index))
            if known is not None and known[0] == name:
                return known[1]
            prior = self.reuse.prior_durable(parent, name, index)
            value = prior if prior is not None else proposed
            self._durable[(parent, index)] = (name, value)
        action = self.next_id(parent)
        now = time.time()
        conv = self.conversion
        self.recorder.new_action(ActionRecord(
            self.run_name, action, parent, f"durable:{name}", Phase.SUCCEEDED, attempts=1 if prior is None else 0,
            created_at=now, started_at=now, ended_at=now,
            inputs=self.engine.encode_inputs(name, _DURABLE, {"index": index}, conv),
            outputs=self.engine.encode_output(name, _DURABLE, value, conv),
            recovered_from=self.reuse.prior_run if prior is not None else None))
        return value
