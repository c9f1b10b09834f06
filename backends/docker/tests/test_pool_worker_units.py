"""The warm worker's attempt threads (:class:`flyte_backend_docker.pool_worker.Threads`): every
attempt starts at once, even while others wait, and threads done with an attempt take the next."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flyte_backend_docker.pool_worker import Threads


def wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_a_waiting_attempt_never_holds_up_the_next_and_threads_are_reused() -> None:
    threads = Threads()
    release, started = threading.Event(), threading.Barrier(3, timeout=10)
    first: set[int] = set()

    def blocked() -> None:  # an attempt waiting for its children
        first.add(threading.get_ident())
        started.wait()
        release.wait(10)

    threads.submit(blocked)
    threads.submit(blocked)
    started.wait()  # both run at once, on two threads
    release.set()
    wait_until(lambda: threads.idle == 2)
    later: list[int] = []
    for _ in range(50):
        threads.submit(lambda: later.append(threading.get_ident()))
        wait_until(lambda: threads.idle == 2)
    # Fifty attempts, one after another, on the two threads the first ones started: no new thread.
    assert len(later) == 50 and set(later) <= first and len(first) == 2
