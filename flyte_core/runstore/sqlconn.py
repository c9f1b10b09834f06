"""The run store's SQLite connections: one per thread (and process), opened on first use, and
handed on to the next thread when one is done with the store, so a run's short-lived threads
(its recorder's writer) do not each pay for opening a connection and reading the schema."""

from __future__ import annotations

import os
import sqlite3
import threading

#: How long a connection waits for another one's write lock before SQLite reports it busy.
BUSY_TIMEOUT_MS = 10_000


class ThreadConnections:
    """Connections to the SQLite file at ``path`` in WAL mode, each used by one thread at a time."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._local = threading.local()
        #: Every connection opened, to close them all (so ``check_same_thread=False``; a connection
        #: is still only used by the thread holding it).
        self._all: list[sqlite3.Connection] = []
        #: Connections given back by threads done with the store, with the process that opened them.
        self._idle: list[tuple[sqlite3.Connection, int]] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection: its own, one given back by another thread, or a new one. A
        connection inherited from a parent process (fork) is never reused."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        pid = os.getpid()
        if conn is not None and getattr(self._local, "pid", None) == pid:
            return conn
        with self._lock:
            while self._idle:
                idle, owner = self._idle.pop()
                if owner == pid:
                    self._local.conn, self._local.pid = idle, pid
                    return idle
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        self._local.conn, self._local.pid = conn, pid
        with self._lock:
            self._all.append(conn)
        return conn

    def release(self) -> None:
        """This thread is done with the store: its connection (outside any transaction) goes to
        the next thread that needs one."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid() or conn.in_transaction:
            return
        self._local.conn = None
        with self._lock:
            if conn in self._all:  # not closed meanwhile
                self._idle.append((conn, os.getpid()))

    def close(self) -> None:
        """Close every connection opened."""
        with self._lock:
            conns, self._all, self._idle = self._all, [], []
        for conn in conns:
            conn.close()
