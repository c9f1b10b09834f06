"""Python's cyclic garbage collector while runs are driven in this process.

A run's hot path allocates many small containers (literal maps, the recorder's row tuples) that
die by reference counting, not by the collector; the run's writer, which shares the interpreter
lock with the tasks, lets rows queue up while they run. With the default first threshold (700
allocations) the collector ran every dozen or so actions and each time walked the queued rows, and
their survivors set off full collections: about a seventh of a long chain's time, for nothing
collected. While at least one run is driven here, the first threshold is raised to
:data:`RUN_THRESHOLD` (a collection every 20,000 allocations); the thresholds are put back when
the last run ends, unless someone changed them meanwhile. A first threshold already at least that
high, or 0 (the collector switched off by threshold), is left alone.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: The first-generation threshold while runs are driven: cyclic garbage made by tasks is still
#: collected, after at most this many allocations instead of 700.
RUN_THRESHOLD = 20_000

_lock = threading.Lock()
_runs = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold for the duration (see the module doc); nests, and
    runs driven at once in several threads share one change."""
    global _runs, _saved
    with _lock:
        _runs += 1
        if _runs == 1:
            current = gc.get_threshold()
            if 0 < current[0] < RUN_THRESHOLD:
                _saved = current
                gc.set_threshold(RUN_THRESHOLD, current[1], current[2])
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _saved is not None:
                if gc.get_threshold()[0] == RUN_THRESHOLD:  # nobody changed it meanwhile
                    gc.set_threshold(*_saved)
                _saved = None
