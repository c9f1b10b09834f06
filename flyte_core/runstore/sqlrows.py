"""The run store's SQLite layout: the schema, its version, the column lists, and how records
become rows and rows records again (used by :mod:`flyte_core.runstore.sqlite`)."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from flyte_core import wire
from flyte_core.runstore.records import ActionRecord, CacheEntry, ErrorInfo, EventRecord, Phase, RunRecord

#: Version of the table layout below; stored in the ``meta`` table. Older versions are migrated
#: (:data:`MIGRATIONS`) when opened, newer ones refused.
SCHEMA_VERSION = 2

RUN_COLUMNS = ("name", "task", "phase", "backend", "created_at", "started_at", "ended_at",
                "inputs", "outputs", "error", "pid", "host", "labels", "heartbeat", "abort_requested",
                "recovered_from")
# Columns the controller owns; a put_run must not reset a flag someone else set meanwhile.
RUN_UPDATE_COLUMNS = tuple(c for c in RUN_COLUMNS if c != "abort_requested")
CACHE_COLUMNS = ("task", "key", "version", "outputs", "run", "action", "created_at")
ACTION_COLUMNS = ("run", "action", "parent", "task", "phase", "attempts", "grp", "created_at",
                   "started_at", "ended_at", "inputs", "outputs", "error", "cache_hit", "recovered_from",
                   "explicit")
#: An action as the recorder writes it: values in ``ACTION_COLUMNS`` order, literals as JSON text.
ActionRow = tuple[Any, ...]
EVENT_COLUMNS = ("run", "action", "phase", "attempt", "at", "message")
LOG_COLUMNS = ("run", "action", "attempt", "at", "stream", "line")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    name TEXT PRIMARY KEY, task TEXT NOT NULL, phase TEXT NOT NULL, backend TEXT NOT NULL,
    created_at REAL NOT NULL, started_at REAL, ended_at REAL, inputs TEXT, outputs TEXT,
    error TEXT, pid INTEGER, host TEXT, labels TEXT NOT NULL DEFAULT '{}', heartbeat REAL,
    abort_requested INTEGER NOT NULL DEFAULT 0, recovered_from TEXT);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at);
CREATE INDEX IF NOT EXISTS runs_phase ON runs (phase, created_at);
CREATE INDEX IF NOT EXISTS runs_task ON runs (task, created_at);
CREATE TABLE IF NOT EXISTS actions (
    run TEXT NOT NULL, action TEXT NOT NULL, parent TEXT, task TEXT NOT NULL, phase TEXT NOT NULL,
    attempts INTEGER NOT NULL, grp TEXT, created_at REAL NOT NULL, started_at REAL, ended_at REAL,
    inputs TEXT, outputs TEXT, error TEXT, cache_hit INTEGER NOT NULL, recovered_from TEXT,
    explicit INTEGER NOT NULL DEFAULT 1, PRIMARY KEY (run, action));
CREATE INDEX IF NOT EXISTS actions_created ON actions (run, created_at);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, action TEXT, phase TEXT NOT NULL,
    attempt INTEGER NOT NULL, at REAL NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_run ON events (run, action, seq);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, action TEXT NOT NULL,
    attempt INTEGER NOT NULL, at REAL NOT NULL, stream TEXT NOT NULL, line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS logs_run ON logs (run, seq);
CREATE INDEX IF NOT EXISTS logs_action ON logs (run, action, seq);
CREATE TABLE IF NOT EXISTS cache (
    task TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL, outputs TEXT NOT NULL,
    run TEXT NOT NULL, action TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY (task, key));
CREATE INDEX IF NOT EXISTS cache_recent ON cache (task, created_at);
"""

#: Statements that bring a store of version ``n`` (the key) to ``n + 1``, run in one transaction.
#: Version 2 keeps one row per action: an ordinary action's phase changes (queued, running, then
#: succeeded) are read off its row's times; only actions with ``explicit = 1`` (retried, failed,
#: aborted, traced) have all their changes in ``events``, as every action of a version-1 store has.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE actions ADD COLUMN explicit INTEGER NOT NULL DEFAULT 1",),
}


#: What a row binds for a missing text value in a column :func:`insert_sql` was told is
#: ``nullable``: the statement turns it into NULL (``NULLIF(?, 0)``; no text equals the integer 0).
#: Python's sqlite3 binds only exact ints, floats and strs directly: for any other value (None, a
#: bool, a str enum) it looks for an adapter, raising and discarding an AttributeError on the
#: way (about 0.6 µs a value, more than SQLite's own work for the column). So hot rows bind 0
#: for a missing text, 0 or 1 for a flag and an enum's text.
NULL_TEXT = 0


def insert_sql(table: str, columns: Sequence[str], key: Sequence[str] = (), update: Sequence[str] = (),
               nullable: Collection[str] = ()) -> str:
    """An INSERT of ``columns``; with ``key``, an upsert that updates every other column (or only
    ``update``) in place (unlike INSERT OR REPLACE this keeps the rowid, so insertion order
    survives updates). A ``nullable`` column takes :data:`NULL_TEXT` (or None) for NULL."""
    values = ", ".join(f"NULLIF(?, {NULL_TEXT})" if c in nullable else "?" for c in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"
    if key:
        updates = ", ".join(f"{c} = excluded.{c}" for c in (update or columns) if c not in key)
        sql += f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    return sql


#: Most rows one multi-row statement writes (16 columns each stays under SQLite's oldest limit
#: of 999 bound values).
_MAX_ROWS_PER_STATEMENT = 32


def multi_row_statements(sql: str, rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[str, list[Any]]]:
    """``sql`` (an :func:`insert_sql` of one row) applied to ``rows`` as a few multi-row statements,
    each with its parameters: 32 rows, then 16, 8, ... 1 for the rest, so a handful of statement
    texts are ever prepared. One statement per 32 rows instead of one per row: the Python-to-SQLite
    step (which releases and retakes the GIL) is paid per statement."""
    i, n = 0, _MAX_ROWS_PER_STATEMENT
    while i < len(rows):
        while n > len(rows) - i:
            n //= 2
        part = rows[i:i + n]
        yield _statement(sql, n), [v for row in part for v in row]
        i += n


@functools.lru_cache(maxsize=64)
def _statement(sql: str, n: int) -> str:
    """``sql`` (one row's INSERT) for ``n`` rows: its parenthesised values repeated."""
    head, _, rest = sql.partition(" VALUES (")
    end, depth = 0, 1
    while depth:  # to the values' closing parenthesis (they may hold calls)
        depth += (rest[end] == "(") - (rest[end] == ")")
        end += 1
    one, tail = rest[:end - 1], rest[end:]
    return f"{head} VALUES {', '.join(['(' + one + ')'] * n)}{tail}"


def to_json(value: Any) -> str | None:
    """JSON text of a dict (or None)."""
    return None if value is None else json.dumps(value, separators=(",", ":"))


def literals_to_json(value: dict[str, Any] | None) -> str | None:
    """:func:`to_json` of a literal map, written directly for the common tiny one (a single bool,
    int, str or finite float literal, as most task inputs and outputs are): the same JSON, without
    the encoder; the text before the payload is made once per literal name, type and version."""
    if value is not None and len(value) == 1:
        for name, lit in value.items():
            if type(lit) is dict and len(lit) == 3:
                t, v = lit.get("t"), lit.get("v")
                d: Any = lit.get("d")
                if type(t) is str and type(v) is int and type(name) is str:
                    head = _HEADS.get((name, t, v)) or _head(name, t, v)
                    td = type(d)
                    if td is int or (td is float and d - d == 0.0):  # NaN and infinities: the encoder's way
                        return f"{head}{d!r}}}}}"
                    if td is bool:
                        return head + ("true}}" if d else "false}}")
                    if td is str:
                        return f"{head}{_json_str(d)}}}}}"
    return to_json(value)


#: ``{"<name>":{"t":"<t>","v":<v>,"d":`` by (name, t, v): the text of a tiny literal map before its payload.
_HEADS: dict[tuple[str, str, int], str] = {}
_json_str = json.encoder.encode_basestring_ascii  # what json.dumps writes for a str (ensure_ascii)


def _head(name: str, t: str, v: int) -> str:
    head = f"{{{_json_str(name)}:{{\"t\":{_json_str(t)},\"v\":{v!r},\"d\":"
    if len(_HEADS) < 10_000:  # a handful in practice: one per input/output name and type
        _HEADS[(name, t, v)] = head
    return head


def from_json(text: str | None) -> Any:
    """The value of JSON text (or None)."""
    return None if text is None else json.loads(text)


def error_to_json(error: ErrorInfo | None) -> str | None:
    """JSON text of an :class:`ErrorInfo` in its wire form."""
    return None if error is None else to_json(wire.converter().unstructure(error))


#: Each phase's text: a row binds the text, not the str enum (see ``NULL_TEXT``).
_PHASE_TEXT = {p: p.value for p in Phase}


def action_row(s: tuple[Any, ...]) -> tuple[Any, ...]:
    """The row of an action, in ``ACTION_COLUMNS`` order, from its state as a tuple in that order
    (literal maps and the error as objects; a run's recorder keeps live actions so)."""
    # Only exact ints, floats and strs (see NULL_TEXT): the phase as its text, flags as 0 or 1, a
    # missing text (parent, group, literals, error, recovered-from) as NULL_TEXT; literals as JSON text.
    return (s[0], s[1], NULL_TEXT if s[2] is None else s[2], s[3], _PHASE_TEXT[s[4]], s[5],
            NULL_TEXT if s[6] is None else s[6], s[7], s[8], s[9],
            NULL_TEXT if s[10] is None else literals_to_json(s[10]),
            NULL_TEXT if s[11] is None else literals_to_json(s[11]),
            NULL_TEXT if s[12] is None else error_to_json(s[12]), 1 if s[13] else 0,
            NULL_TEXT if s[14] is None else s[14], 1 if s[15] else 0)


def error_from_json(text: str | None) -> ErrorInfo | None:
    """The :class:`ErrorInfo` stored as JSON text."""
    return None if text is None else wire.converter().structure(json.loads(text), ErrorInfo)


def run_from_row(r: Sequence[Any]) -> RunRecord:
    """A :class:`RunRecord` from a row of ``RUN_COLUMNS``."""
    return RunRecord(
        name=r[0], task=r[1], phase=Phase(r[2]), backend=r[3], created_at=r[4], started_at=r[5],
        ended_at=r[6], inputs=from_json(r[7]), outputs=from_json(r[8]), error=error_from_json(r[9]),
        pid=r[10], host=r[11], labels=from_json(r[12]) or {}, heartbeat=r[13], abort_requested=bool(r[14]),
        recovered_from=r[15],
    )


def action_from_row(r: Sequence[Any]) -> ActionRecord:
    """An :class:`ActionRecord` from a row of ``ACTION_COLUMNS``."""
    return ActionRecord(
        run=r[0], action=r[1], parent=r[2], task=r[3], phase=Phase(r[4]), attempts=r[5], group=r[6],
        created_at=r[7], started_at=r[8], ended_at=r[9], inputs=from_json(r[10]),
        outputs=from_json(r[11]), error=error_from_json(r[12]), cache_hit=bool(r[13]), recovered_from=r[14],
    )


def implied_events(r: Sequence[Any]) -> list[EventRecord]:
    """The phase changes of an ordinary action (``explicit = 0``), read off its row of
    ``ACTION_COLUMNS``: queued when created, running from its start (if it ran), and its end."""
    run, action, phase, attempts, created, started, ended = r[0], r[1], Phase(r[4]), r[5], r[7], r[8], r[9]
    out = [EventRecord(run, action, Phase.QUEUED, 0, created)]
    if attempts >= 1 and started is not None:
        out.append(EventRecord(run, action, Phase.RUNNING, attempts, started))
    if phase.is_terminal and ended is not None:
        message = f"recovered from {r[14]}" if r[14] else "cache hit" if r[13] and attempts == 0 else ""
        out.append(EventRecord(run, action, phase, attempts, ended, message))
    return out


def cache_from_row(r: Sequence[Any]) -> CacheEntry:
    """A :class:`CacheEntry` from a row of ``CACHE_COLUMNS``."""
    return CacheEntry(task=r[0], key=r[1], version=r[2], outputs=json.loads(r[3]), run=r[4], action=r[5],
                      created_at=r[6])
