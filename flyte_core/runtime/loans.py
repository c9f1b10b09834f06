"""Store folders a task may write only once its worker has borrowed them.

A reusable (warm) container mounts its run's folder read-only: an attempt's own store folders (its
offloaded values, its action's folder of checkpoints and report) are lent to the worker by the host,
which costs the host a few file-system calls per folder. Most attempts write neither, so a worker
lends them on first use: it registers each folder with :func:`lend_on_write`, and whatever is about
to write under one (a fresh store path, a checkpoint, a report, ``TaskContext.output_path``) calls
:func:`writable` first, which borrows the folder from the host once and waits until it is lent.

In every other process nothing is registered and :func:`writable` returns at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

#: The folder (as the worker's paths spell it: a path or a URL) -> its borrower, until lent.
_pending: dict[str, _Borrow] = {}
_lock = threading.Lock()


class _Borrow:
    """One folder's borrowing: done once, by the first writer; later writers wait for it."""

    def __init__(self, folder: str, borrow: Callable[[], None]) -> None:
        self.folder = folder
        self.borrow = borrow
        self.started = False
        self.done = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.borrow()
        except BaseException as e:
            self.error = e
            raise
        else:  # lent: later writes need nothing
            with _lock:
                if _pending.get(self.folder) is self:
                    del _pending[self.folder]
        finally:
            self.done.set()


def lend_on_write(folder: str, borrow: Callable[[], None]) -> None:
    """Call ``borrow()`` (which returns once ``folder`` can be written) before the first write under
    ``folder``; until :func:`forget` is called for it."""
    folder = folder.rstrip("/")
    with _lock:
        _pending[folder] = _Borrow(folder, borrow)


def forget(folder: str) -> None:
    """Stop watching ``folder`` (its attempt ended, borrowed or not)."""
    with _lock:
        _pending.pop(folder.rstrip("/"), None)


def writable(path: str) -> str:
    """``path``, once the folder holding it may be written (borrowing it first if it must be);
    an OSError when it could not be borrowed."""
    if not _pending:  # every process but a warm worker's
        return path
    with _lock:
        found = next((b for f, b in _pending.items() if path == f or path.startswith(f + "/")), None)
        if found is None:
            return path
        first = not found.started
        found.started = True
    if first:
        found.run()
    else:
        found.done.wait()
        if found.error is not None:
            raise OSError(f"{path} cannot be written: its folder could not be borrowed ({found.error})")
    return path
