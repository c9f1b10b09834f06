"""A run whose top-level call is already cached: recorded as served from the cache, without its
backend, loop thread or writer ever starting.

Running such a run in full would start the backend (for docker: its client and engine), a loop
and a writer thread, only to find the outputs in the cache at its first step. What is recorded is
the same: the run and its one action ``a0``, succeeded, marked as a cache hit, with the cached
outputs. A run that someone watches (run observers, a plugin implementing ``flyte_action_event``
or ``flyte_run_event``) is driven in full, so that they are told each phase as usual.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import attrs

from flyte_core.run.cache import cache_key
from flyte_core.runstore.records import Phase, RunRecord
from flyte_core.runstore.sqlrows import action_row
from flyte_core.task.template import TaskTemplate

if TYPE_CHECKING:
    from flyte_core.run.session import RunOptions, Session

#: Hooks whose implementations are told a run's phase changes: a run is driven in full for them.
_WATCHING_HOOKS = ("flyte_action_event", "flyte_run_event")


def serve_from_cache(session: Session, options: RunOptions, task: TaskTemplate[Any, Any],
                     record: RunRecord) -> RunRecord | None:
    """Record run ``record`` as served from the cache and return it finished, when its task's call
    with the run's inputs is in the cache and nothing watches the run; None otherwise (the run is
    to be driven). ``record`` is the new run in phase QUEUED, with its encoded inputs."""
    if (options.observers or options.overwrite_cache or options.disable_run_cache or options.recover
            or not task.cache.is_enabled() or record.inputs is None):
        return None
    if any(session.plugins.implements(hook) for hook in _WATCHING_HOOKS):
        return None
    session.backends.get(record.backend)  # an unknown backend is an error even when nothing runs
    key, _ = cache_key(task, record.inputs)
    # The run store's index only: an entry only another machine has written (in the shared data
    # store) is found by the driven run, which looks there; a miss is then not looked up twice there.
    entry = session.runs.get_cache(task.name, key)
    if entry is None:
        return None
    now = time.time()
    outputs = dict(entry.outputs)
    # The action first, as the run's writer records a hit: one row, whose times say its phases
    # (not `explicit`: no event rows). A run record is then never seen without its action.
    session.runs.write_batch([action_row((record.name, "a0", None, task.name, Phase.SUCCEEDED, 0, None,
                                          record.created_at, now, now, record.inputs, outputs, None, True, None,
                                          False))], [], [])
    done = attrs.evolve(record, phase=Phase.SUCCEEDED, started_at=now, ended_at=now, heartbeat=now, outputs=outputs)
    session.runs.put_run(done)
    return done
