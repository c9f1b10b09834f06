"""The default run store: one SQLite file, safe for several threads and processes at once.

Concurrency model:

- **Threads** — each thread gets its own connection (``threading.local``). A single shared
  connection behind a lock would serialise reads behind writes; per-thread connections let WAL
  readers proceed while another thread writes. A thread done with the store hands its connection
  on (:meth:`SQLiteRunStore.release_connection`); :meth:`SQLiteRunStore.close` closes them all
  (:mod:`flyte_core.runstore.sqlconn`; a connection is only *used* by one thread at a time).
- **Processes** — the database runs in WAL mode with a 10 s ``busy_timeout``; every write batch is
  one ``BEGIN IMMEDIATE`` transaction (taking the write lock up front, so two writers never
  deadlock upgrading a read lock), retried with backoff if SQLite still reports the file locked.
- **fork** — a connection inherited from a parent process is never reused: connections are keyed
  by process id.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flyte_core.errors.core import FlyteUsageError, RunStoreDamagedError
from flyte_core.runstore.records import (
    ActionRecord,
    CacheEntry,
    EventRecord,
    LogLine,
    Phase,
    RunRecord,
)
from flyte_core.runstore.sqlconn import ThreadConnections
from flyte_core.runstore.sqlrows import (
    ACTION_COLUMNS,
    CACHE_COLUMNS,
    EVENT_COLUMNS,
    LOG_COLUMNS,
    MIGRATIONS,
    RUN_COLUMNS,
    RUN_UPDATE_COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    ActionRow,
    action_from_row,
    cache_from_row,
    error_to_json,
    from_json,
    implied_events,
    insert_sql,
    multi_row_statements,
    run_from_row,
    to_json,
)
from flyte_core.security.privatefiles import private_file

if TYPE_CHECKING:
    from pathlib import Path

_LOCK_RETRIES = 8
#: The recorder's upsert of its action rows: a missing text binds as NULL_TEXT (see there).
_ACTION_UPSERT = insert_sql("actions", ACTION_COLUMNS, key=("run", "action"),
                            nullable=("parent", "grp", "inputs", "outputs", "error", "recovered_from"))
_EVENT_INSERT = insert_sql("events", EVENT_COLUMNS)
_LOG_INSERT = insert_sql("logs", LOG_COLUMNS)
_CACHE_UPSERT = insert_sql("cache", CACHE_COLUMNS, key=("task", "key"))


def _cache_row(entry: CacheEntry) -> tuple[Any, ...]:
    """A cache entry's row, in ``CACHE_COLUMNS`` order."""
    return (entry.task, entry.key, entry.version, json.dumps(entry.outputs), entry.run, entry.action,
            entry.created_at)

_T = TypeVar("_T")


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    """True when SQLite gave up waiting for another connection's lock."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


#: A task's most recent cache entries, walked newest first along the ``cache_recent`` index: no
#: sort (sorting took 3/4 of a 20,000-entry preload).
RECENT_CACHE_SQL = "SELECT key, outputs FROM cache WHERE task = ? ORDER BY created_at DESC LIMIT ?"


class SQLiteRunStore:
    """A :class:`~flyte_core.runstore.RunStore` kept in the SQLite file at ``path``.

    Creates the file, its parent directories and the schema when missing; refuses a file written
    with another schema version.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open (creating if needed) the run store at ``path``."""
        self._file = os.fspath(path)  # a string: opening the store needs no pathlib (see path)
        os.makedirs(os.path.dirname(self._file) or ".", exist_ok=True)
        # Runs hold inputs, outputs, logs and errors: owner-only, like the secret store. SQLite gives
        # its -wal and -shm files the database file's mode.
        private_file(self._file)
        self._conns = ThreadConnections(self._file)
        self._lock = threading.Lock()
        self._closed = False
        self._retry(self._create_schema)

    @property
    def path(self) -> Path:
        """The database file."""
        from pathlib import Path

        return Path(self._file)

    def __repr__(self) -> str:
        """``SQLiteRunStore('<path>')``."""
        return f"SQLiteRunStore({self._file!r})"

    # --- connections and transactions ----------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """This thread's (and process's) connection, opened on first use."""
        if self._closed:
            raise RuntimeError(f"{self!r} is closed.")
        return self._conns.get()

    def release_connection(self) -> None:
        """The calling thread is done with the store (a run's recorder when the run ends): its
        connection is handed to the next thread instead of staying with this one."""
        self._conns.release()

    def _retry(self, fn: Callable[[], _T]) -> _T:
        """Call ``fn``, retrying with backoff while the database is locked by another writer."""
        for attempt in range(_LOCK_RETRIES):
            try:
                return fn()
            except sqlite3.OperationalError as e:
                if not _is_locked(e) or attempt == _LOCK_RETRIES - 1:
                    raise
                time.sleep(min(0.05 * 2**attempt, 2.0))
            except sqlite3.DatabaseError as e:  # damaged pages: say so once, never touch the file
                raise RunStoreDamagedError(
                    f"Run store '{self._file}' is damaged ({e}); it was left as it is. Move it aside to start a "
                    f"new one (mv {self._file} {self._file}.damaged), or copy what is readable into a new file "
                    f"with: sqlite3 {self._file} .recover | sqlite3 NEW.db"
                ) from None
        raise AssertionError("unreachable")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` write transaction, rolled back if the body raises."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
                conn.execute("ROLLBACK")
            raise

    def _write(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Run ``sql`` for every row in one transaction (nothing to do for no rows)."""
        if rows:
            def run() -> None:
                with self._transaction() as conn:
                    conn.executemany(sql, rows)
            self._retry(run)

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Rows of a query."""
        return self._retry(lambda: self._conn().execute(sql, params).fetchall())

    def _create_schema(self) -> None:
        """Create the tables (idempotent) after checking the file's schema version."""
        try:
            with self._transaction() as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                version = int(row[0]) if row is not None and row[0].isdigit() else None
                if row is not None and (version is None or version > SCHEMA_VERSION or (version not in MIGRATIONS
                                        and version != SCHEMA_VERSION)):
                    raise FlyteUsageError(
                        f"The run store {self._file} has schema version {row[0]}, but this flyte-core "
                        f"reads version {SCHEMA_VERSION}; use the flyte-core version that wrote it "
                        "or point the run store at another file."
                    )
                while version is not None and version < SCHEMA_VERSION:  # an older store: brought up to date
                    for statement in MIGRATIONS[version]:
                        conn.execute(statement)
                    version += 1
                    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and _is_locked(e):
                raise
            raise FlyteUsageError(f"The run store {self._file} cannot be opened as SQLite: {e}.") from e

    # --- writes ----------------------------------------------------------------------------------

    def put_run(self, run: RunRecord) -> None:
        """Insert or replace a run."""
        row = (run.name, run.task, run.phase.value, run.backend, run.created_at, run.started_at,
               run.ended_at, to_json(run.inputs), to_json(run.outputs), error_to_json(run.error),
               run.pid, run.host, to_json(dict(run.labels)), run.heartbeat, int(run.abort_requested),
               run.recovered_from)
        self._write(insert_sql("runs", RUN_COLUMNS, key=("name",), update=RUN_UPDATE_COLUMNS), [row])

    def put_actions(self, actions: Sequence[ActionRecord]) -> None:
        """Insert or replace actions (one transaction); their events are what :meth:`add_events` adds."""
        rows = [(a.run, a.action, a.parent, a.task, a.phase.value, a.attempts, a.group, a.created_at,
                 a.started_at, a.ended_at, to_json(a.inputs), to_json(a.outputs),
                 error_to_json(a.error), int(a.cache_hit), a.recovered_from) for a in actions]
        self._write(insert_sql("actions", ACTION_COLUMNS[:-1], key=("run", "action")), rows)

    def write_batch(self, actions: Sequence[ActionRow], events: Sequence[EventRecord],
                    logs: Sequence[LogLine], cache: Sequence[CacheEntry] = ()) -> None:
        """Upsert action rows (in ``ACTION_COLUMNS`` order) and cache entries, and append events
        and log lines, all in one transaction: what a run's recorder has gathered since its last
        batch. A missing text in an action row (parent, group, inputs, outputs, error, recovered
        from) is None or, quicker to bind, :data:`~flyte_core.runstore.sqlrows.NULL_TEXT`."""
        event_rows = [(e.run, e.action, e.phase.value, e.attempt, e.at, e.message) for e in events]
        log_rows = [(ln.run, ln.action, ln.attempt, ln.at, ln.stream, ln.line) for ln in logs]
        cache_rows = [_cache_row(e) for e in cache]

        def run() -> None:
            with self._transaction() as conn:
                for sql, rows in ((_ACTION_UPSERT, actions), (_EVENT_INSERT, event_rows), (_LOG_INSERT, log_rows),
                                  (_CACHE_UPSERT, cache_rows)):
                    for statement, params in multi_row_statements(sql, rows):
                        conn.execute(statement, params)
        if actions or event_rows or log_rows or cache_rows:
            self._retry(run)

    def add_events(self, events: Sequence[EventRecord]) -> None:
        """Append phase changes (one transaction)."""
        rows = [(e.run, e.action, e.phase.value, e.attempt, e.at, e.message) for e in events]
        self._write(_EVENT_INSERT, rows)

    def add_logs(self, lines: Sequence[LogLine]) -> None:
        """Append log lines (one transaction)."""
        rows = [(ln.run, ln.action, ln.attempt, ln.at, ln.stream, ln.line) for ln in lines]
        self._write(_LOG_INSERT, rows)

    def import_run(self, source: str | os.PathLike[str], name: str, labels: Mapping[str, str] = {}) -> bool:
        """Bring run ``name`` up to date from another run-store file of this schema (a copy made
        where the run is driven): its run row and actions replaced, the events and log lines not
        yet here appended (both only grow, so those already imported are a prefix), ``labels``
        kept on the run. One transaction, so processes importing at once cannot double a line.
        Return False when ``source`` does not hold the run."""
        conn = self._conn()
        conn.execute("ATTACH DATABASE ? AS src", (os.fspath(source),))  # not allowed inside a transaction
        try:
            def run() -> bool:
                with self._transaction() as tx:
                    row = tx.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM src.runs WHERE name = ?",
                                     (name,)).fetchone()
                    if row is None:
                        return False
                    cols = ", ".join(ACTION_COLUMNS)
                    updates = ", ".join(f"{c} = excluded.{c}" for c in ACTION_COLUMNS if c not in ("run", "action"))
                    tx.execute(f"INSERT INTO main.actions ({cols}) SELECT {cols} FROM src.actions WHERE run = ? "
                               f"ON CONFLICT (run, action) DO UPDATE SET {updates}", (name,))
                    for table, columns in (("events", EVENT_COLUMNS), ("logs", LOG_COLUMNS)):
                        cols = ", ".join(columns)
                        tx.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM src.{table} WHERE run = ? "
                                   f"ORDER BY seq LIMIT -1 OFFSET (SELECT count(*) FROM main.{table} WHERE run = ?)",
                                   (name, name))
                    merged = {**(from_json(row[12]) or {}), **labels}
                    tx.execute(insert_sql("runs", RUN_COLUMNS, key=("name",), update=RUN_UPDATE_COLUMNS),
                               (*row[:12], to_json(merged), *row[13:]))
                    return True
            return self._retry(run)
        finally:
            conn.execute("DETACH DATABASE src")

    def heartbeat(self, run: str, at: float) -> None:
        """Record that the controller of ``run`` is alive at ``at``."""
        self._write("UPDATE runs SET heartbeat = ? WHERE name = ?", [(at, run)])

    def request_abort(self, run: str) -> bool:
        """Ask the controller of ``run`` to abort it; False if there is no such run."""
        if self.get_run(run) is None:
            return False
        self._write("UPDATE runs SET abort_requested = 1 WHERE name = ?", [(run,)])
        return True

    def put_cache(self, entry: CacheEntry) -> None:
        """Insert or replace a cache entry (by task and key)."""
        self._write(_CACHE_UPSERT, [_cache_row(entry)])

    def get_cache(self, task: str, key: str) -> CacheEntry | None:
        """The cache entry of ``task`` under ``key``, or None."""
        rows = self._read(f"SELECT {', '.join(CACHE_COLUMNS)} FROM cache WHERE task = ? AND key = ?", (task, key))
        return cache_from_row(rows[0]) if rows else None

    def list_cache(self, task: str | None = None, limit: int | None = None) -> list[CacheEntry]:
        """Cache entries (of one task, if given), newest first; at most ``limit``."""
        sql = f"SELECT {', '.join(CACHE_COLUMNS)} FROM cache"
        params: list[Any] = []
        if task is not None:
            sql += " WHERE task = ?"
            params.append(task)
        sql += " ORDER BY created_at DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [cache_from_row(r) for r in self._read(sql, params)]

    def recent_cache_outputs(self, task: str, limit: int) -> list[tuple[str, str]]:
        """The keys and outputs (JSON text) of the ``limit`` most recent cache entries of ``task``
        (what a run's in-memory cache index starts from: no record built per entry)."""
        return cast("list[tuple[str, str]]", self._read(RECENT_CACHE_SQL, (task, limit)))

    def delete_cache(self, task: str | None = None) -> int:
        """Delete cache entries (of one task, if given); return how many."""
        n = len(self.list_cache(task))
        if task is None:
            self._write("DELETE FROM cache", [()])
        else:
            self._write("DELETE FROM cache WHERE task = ?", [(task,)])
        return n

    # --- reads -----------------------------------------------------------------------------------

    def get_run(self, name: str) -> RunRecord | None:
        """The run called ``name``, or None."""
        rows = self._read(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE name = ?", (name,))
        return run_from_row(rows[0]) if rows else None

    def list_runs(
        self, *, limit: int = 50, phase: Phase | None = None, task: str | None = None,
        since: float | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first (by ``created_at``), optionally filtered by phase, task and
        ``created_at >= since``; at most ``limit``."""
        where: list[str] = ["1"]
        params: list[Any] = []
        for clause, value in (("phase = ?", None if phase is None else Phase(phase).value),
                              ("task = ?", task), ("created_at >= ?", since)):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql = (f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE {' AND '.join(where)} "
               "ORDER BY created_at DESC, rowid DESC LIMIT ?")
        return [run_from_row(r) for r in self._read(sql, [*params, limit])]

    def get_actions(self, run: str, *, offset: int = 0, limit: int | None = None,
                    unfinished: bool = False) -> list[ActionRecord]:
        """The actions of ``run`` in creation order (ties in first-insertion order): every one, or
        ``limit`` of them from ``offset`` (a page), or only those not in a terminal phase."""
        sql = f"SELECT {', '.join(ACTION_COLUMNS)} FROM actions WHERE run = ?"
        params: list[Any] = [run]
        if unfinished:
            terminal = [p.value for p in Phase if p.is_terminal]
            sql += f" AND phase NOT IN ({', '.join('?' * len(terminal))})"
            params += terminal
        sql += " ORDER BY created_at, rowid"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else limit, offset]
        return [action_from_row(r) for r in self._read(sql, params)]

    def get_action(self, run: str, action: str) -> ActionRecord | None:
        """The action ``action`` of ``run``, or None: one row read by the primary key."""
        sql = f"SELECT {', '.join(ACTION_COLUMNS)} FROM actions WHERE run = ? AND action = ?"
        rows = self._read(sql, (run, action))
        return action_from_row(rows[0]) if rows else None

    def count_actions(self, run: str) -> int:
        """How many actions ``run`` has."""
        return int(self._read("SELECT count(*) FROM actions WHERE run = ?", (run,))[0][0])

    def get_events(self, run: str, action: str | None = None) -> list[EventRecord]:
        """Phase changes of a run (every event of the run, run-level and per action) or, when
        ``action`` is given, of that one action; in order of time (ties in the order they were
        added). Those of ordinary actions are read off their rows (see ``MIGRATIONS``)."""
        sql = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE run = ?"
        implied = f"SELECT {', '.join(ACTION_COLUMNS)} FROM actions WHERE run = ? AND explicit = 0"
        params: list[Any] = [run]
        if action is not None:
            sql += " AND action = ?"
            implied += " AND action = ?"
            params.append(action)
        rows = self._read(sql + " ORDER BY seq", params)
        events = [EventRecord(r[0], r[1], Phase(r[2]), r[3], r[4], r[5]) for r in rows]
        for r in self._read(implied + " ORDER BY created_at, rowid", params):
            events += implied_events(r)
        events.sort(key=lambda e: e.at)  # stable: each action's own changes keep their order
        return events

    def get_logs(self, run: str, action: str | None = None, *, after: int = 0) -> list[tuple[int, LogLine]]:
        """Log lines of a run (or of ``action`` and its descendants ``action.*``), each with its
        sequence number, in order; ``after`` skips lines with sequence numbers up to it."""
        sql = f"SELECT seq, {', '.join(LOG_COLUMNS)} FROM logs WHERE run = ? AND seq > ?"
        params: list[Any] = [run, after]
        if action is not None:
            # Descendants of "a0.1" are exactly the ids in ["a0.1.", "a0.1/") — '/' sorts right after
            # '.' — so "a0.10" is excluded; a binary range (unlike LIKE) is case-sensitive and
            # needs no escaping of '%' or '_'.
            sql += " AND (action = ? OR (action >= ? AND action < ?))"
            params += [action, action + ".", action + "/"]
        rows = self._read(sql + " ORDER BY seq", params)
        return [(r[0], LogLine(r[1], r[2], r[3], r[4], r[5], r[6])) for r in rows]

    def close(self) -> None:
        """Close every connection this store opened; the store cannot be used afterwards."""
        with self._lock:
            self._closed = True
        self._conns.close()
