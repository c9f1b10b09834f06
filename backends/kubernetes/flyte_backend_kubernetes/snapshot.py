"""Copies of a driver pod's run store, for durable runs on a remote data store.

A driver pod on a cluster whose data store is remote (s3://, gs://, ...) keeps its run store in
the pod (SQLite needs a local disk) and publishes a consistent copy of it to the data store
whenever it changed (:class:`Publisher`, at most once a second, and once more at the end). The
machine that launched the run imports the run's records from the latest copy into its own run
store (:func:`import_run`), which is how ``flyte runs show RUN --follow``, ``flyte runs logs``
and ``flyte ui`` see a run driven in the cluster.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Mapping

import attrs
import fsspec

from flyte_core.extend import RunStore, SQLiteRunStore


def publish(db_path: str, url: str) -> None:
    """Upload a consistent copy of the SQLite database ``db_path`` to ``url``."""
    fd, tmp = tempfile.mkstemp(suffix=".db")
    os.close(fd)
    try:
        src, dst = sqlite3.connect(db_path), sqlite3.connect(tmp)
        try:
            src.backup(dst)  # a consistent copy while the run store is being written
        finally:
            dst.close()
            src.close()
        with open(tmp, "rb") as f, fsspec.open(url, "wb") as out:
            out.write(f.read())
    finally:
        os.remove(tmp)


class Publisher:
    """Publishes ``db_path`` to ``url`` from a thread whenever the database changed."""

    def __init__(self, db_path: str, url: str, every: float = 1.0) -> None:
        self.db_path, self.url, self.every = db_path, url, every
        self._stop = threading.Event()
        self._seen: tuple[float, ...] = ()
        self._thread = threading.Thread(target=self._loop, name="flyte-snapshot", daemon=True)

    def start(self) -> None:
        """Start publishing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and publish one last time (the run's final state)."""
        self._stop.set()
        self._thread.join()
        self._publish_if_changed()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self._publish_if_changed()
            except Exception as e:  # a store hiccup: the next round tries again
                print(f"flyte driver: publishing the run store failed: {e}", flush=True)

    def _publish_if_changed(self) -> None:
        stamp = tuple(_stat(p) for p in (self.db_path, f"{self.db_path}-wal"))
        if not os.path.exists(self.db_path) or stamp == self._seen:
            return
        publish(self.db_path, self.url)
        self._seen = stamp


def _stat(path: str) -> float:
    try:
        st = os.stat(path)
    except OSError:
        return -1.0
    return st.st_mtime_ns + st.st_size / 1e12


def fetch(url: str, dest: str) -> bool:
    """Download the copy at ``url`` to ``dest``; False when there is none yet."""
    try:
        with fsspec.open(url, "rb") as src, open(dest, "wb") as out:
            out.write(src.read())
    except FileNotFoundError:
        return False
    return True


def import_run(target: RunStore, snapshot: str, run: str, labels: Mapping[str, str] = {}) -> bool:
    """Bring ``target``'s records of ``run`` up to those in the run-store file ``snapshot``:
    the run and its actions replaced, events and log lines it does not have yet appended (they
    only ever grow, so those already imported are a prefix). ``labels`` are kept on the run.
    Return False when the snapshot does not hold the run (yet). A SQLite target does it in one
    transaction; another store through its interface (not atomic across processes)."""
    if isinstance(target, SQLiteRunStore):  # one transaction: concurrent importers cannot double lines
        try:
            return target.import_run(snapshot, run, labels)
        finally:
            _remove_sidecars(snapshot)
    source = SQLiteRunStore(snapshot)
    try:
        rec = source.get_run(run)
        if rec is None:
            return False
        target.put_actions(source.get_actions(run))
        have = len(target.get_events(run))
        target.add_events(source.get_events(run)[have:])
        have = len(target.get_logs(run))
        target.add_logs([line for _, line in source.get_logs(run)][have:])
        # The run last: whoever sees it ended finds every action and line already there.
        target.put_run(attrs.evolve(rec, labels={**rec.labels, **labels}))
        return True
    finally:
        source.close()
        _remove_sidecars(snapshot)


def _remove_sidecars(snapshot: str) -> None:
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.remove(snapshot + suffix)
