"""Task caching: cache keys, task versions, and the cache itself (data store + run-store index).

A key is the hash of the task's name, its version and its input literals. The version is
``Cache.version_override``, or what the cache policies compute (:mod:`flyte_core.task.cachepolicy`;
by default a hash of the task function's source and of the same-module functions it calls, so
editing either invalidates the cache). Inputs are hashed by content: a
literal carrying a content ``hash`` (offloaded values, files, frames) is hashed by it, not by the
place it was written to.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from flyte_core.runstore.records import CacheEntry
from flyte_core.runstore.store import RunStore
from flyte_core.storage.datastore import DataStore
from flyte_core.task.cachepolicy import VersionParameters, function_body_hash, policies_version
from flyte_core.task.template import TaskTemplate

#: Keys dropped from a literal that carries a content hash (where it lives is not what it is).
_LOCATION_KEYS = frozenset({"uri", "path"})


def task_version(task: TaskTemplate[Any, Any]) -> str:
    """The cache version of ``task``: explicit, or derived from its source."""
    explicit = task.cache.version_override
    if explicit:
        return explicit
    policies = task.cache.policies
    if policies is None:  # the default: the same version runs recorded before policies existed
        return function_body_hash(task.func)
    params = VersionParameters(func=task.func, image=task.env.image)
    return policies_version(policies, task.cache.salt, params, task.name)


def fingerprint(value: Any) -> Any:
    """``value`` with locations of content-hashed parts removed (for hashing)."""
    if isinstance(value, dict):
        drop = _LOCATION_KEYS if "hash" in value else frozenset()
        return {k: fingerprint(v) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [fingerprint(v) for v in value]
    return value


def sorted_json(literals: Mapping[str, Any]) -> str:
    """``json.dumps(literals, sort_keys=True, separators=(",", ":"))``, written directly for the common
    tiny literal map (one int or bool literal, as most task inputs are): the same text, without the encoder."""
    if len(literals) == 1:
        ((name, lit),) = literals.items()
        if type(lit) is dict and len(lit) == 3 and name.isascii() and name.isidentifier():
            t, v, d = lit.get("t"), lit.get("v"), lit.get("d")
            if type(t) is str and type(v) is int and t.isascii() and t.isidentifier():
                if type(d) is int:
                    return f'{{"{name}":{{"d":{d},"t":"{t}","v":{v}}}}}'
                if type(d) is bool:
                    return f'{{"{name}":{{"d":{"true" if d else "false"},"t":"{t}","v":{v}}}}}'
    return json.dumps(literals, sort_keys=True, separators=(",", ":"))


def inputs_hash(inputs: Mapping[str, Any], ignored: tuple[str, ...] = ()) -> str:
    """A hash of input literals by content, leaving out ``ignored`` input names."""
    kept = {k: v for k, v in inputs.items() if k not in ignored} if ignored else inputs
    text = sorted_json(kept)
    if '"hash"' in text:  # some part is content-hashed: hash it without where it lives
        text = json.dumps({k: fingerprint(v) for k, v in kept.items()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def cache_key(task: TaskTemplate[Any, Any], inputs: Mapping[str, Any]) -> tuple[str, str]:
    """``(key, version)`` for a call of ``task`` with these input literals."""
    version = task_version(task)
    return key_from(key_prefix(task.name, version, task.cache.salt), task.cache.get_ignored_inputs(), inputs), version


def key_from(prefix: Any, ignored: tuple[str, ...], inputs: Mapping[str, Any]) -> str:
    """The cache key of a call with these input literals, from its task's :func:`key_prefix` and
    ignored inputs (what :func:`cache_key` computes; a run works these out once per task)."""
    h = prefix.copy()
    h.update(inputs_hash(inputs, ignored).encode())
    h.update(b"\0")
    return str(h.hexdigest())


@functools.lru_cache(maxsize=1024)
def key_prefix(name: str, version: str, salt: str) -> Any:
    """The key's hash fed with the parts that are the same for every call of a task (copied per call)."""
    h = hashlib.sha256()
    for part in (name, version, salt):
        h.update(part.encode())
        h.update(b"\0")
    return h


def _decode(text: str) -> Any:
    """``json.loads(text)`` for text this module's writers made (compact JSON, nothing after it):
    the decoder's scanner called directly, without the three Python frames of ``json.loads``."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        end = -1
    return value if end == len(text) else json.loads(text)  # anything unusual: json.loads says what


#: The scanner ``json.loads`` ends up in (C); set on every decoder, though typeshed does not list it.
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]

#: Entries of one task a run loads into memory on its first lookup of that task (the most recent).
PRELOAD = 20_000


class Cache:
    """Cached outputs, kept in the data store (shared by every machine using it) and indexed in
    the run store, with an in-memory index in front for the run using it: a task's most recent
    entries are loaded on its first lookup (their outputs as text, decoded when first hit), and
    every entry read or written is kept, so a hit is a dictionary lookup; anything not in memory
    is looked up in the run store as before."""

    def __init__(self, runs: RunStore, data: DataStore) -> None:
        self.runs = runs
        self.data = data
        #: Indexes a new entry in the run store (after its data-store object is written). A run
        #: sets its recorder's ``cache_entry`` here, so the entry is indexed with the action that
        #: made it (one transaction for both, off the calling thread) instead of in a transaction
        #: of its own. The object itself is written by the calling thread: file system calls on
        #: the run's writer thread would hand the GIL back and forth with the tasks' thread.
        self.index: Callable[[CacheEntry], None] = runs.put_cache
        self._folders: set[str] = set()  # task folders in the data store known to exist
        #: Tasks whose every run-store entry was preloaded (fewer than PRELOAD): a key not in
        #: memory is not in the run store either (entries another process adds meanwhile are in
        #: the data store, which is still looked at).
        self._complete: set[str] = set()
        #: Outputs known in memory, by (task, key).
        self._hits: dict[tuple[str, str], Mapping[str, Any]] = {}
        #: Outputs of preloaded entries not asked for yet, as JSON text, by (task, key).
        self._preloaded: dict[tuple[str, str], str] = {}
        self._loaded: set[str] = set()

    def _path(self, task: str, key: str) -> str:
        return f"cache/{task}/{key}.json"

    def outputs(self, task: str, key: str) -> Mapping[str, Any] | None:
        """The cached outputs for ``task`` and ``key`` (those of :meth:`get`), or None: the lookup
        of a call, a dictionary lookup when the entry is in memory."""
        found = self._hits.get((task, key))
        if found is not None:
            return found
        if task not in self._loaded:
            self._loaded.add(task)
            recent = self.runs.recent_cache_outputs(task, PRELOAD)
            for k, stored in recent:
                self._preloaded.setdefault((task, k), stored)
            if len(recent) < PRELOAD:
                self._complete.add(task)
        text = self._preloaded.pop((task, key), None)
        if text is not None:
            outputs: Mapping[str, Any] = _decode(text)
            self._hits[(task, key)] = outputs
            return outputs
        entry = self._shared(task, key) if task in self._complete else self.get(task, key)
        if entry is None:
            return None
        self._hits[(task, key)] = entry.outputs
        return entry.outputs

    def get(self, task: str, key: str) -> CacheEntry | None:
        """The entry for ``task`` and ``key`` in the run store; an entry another machine wrote to
        the shared data store is found there and added to this run store's index."""
        entry = self.runs.get_cache(task, key)
        if entry is not None:
            return entry
        return self._shared(task, key)

    def _shared(self, task: str, key: str) -> CacheEntry | None:
        """The entry for ``task`` and ``key`` that another machine wrote to the shared data store
        (added to this run store's index), or None."""
        path = self._path(task, key)
        if not self.data.exists(path):
            return None
        raw = json.loads(self.data.get_bytes(path))
        entry = CacheEntry(task=task, key=key, version=raw["version"], outputs=raw["outputs"], run=raw["run"],
                           action=raw["action"], created_at=raw["created_at"])
        self.runs.put_cache(entry)
        return entry

    def put(self, task: str, key: str, version: str, outputs: Mapping[str, Any], run: str, action: str) -> CacheEntry:
        """Store outputs under ``key`` (replacing any entry)."""
        entry = CacheEntry(task=task, key=key, version=version, outputs=dict(outputs), run=run, action=action,
                           created_at=time.time())
        self._hits[(task, key)] = entry.outputs
        self._preloaded.pop((task, key), None)
        self._write_object(entry)
        self.index(entry)
        return entry

    def _write_object(self, entry: CacheEntry) -> None:
        """Write ``entry``'s object to the data store (where other machines find it)."""
        body = {"schema": 1, "version": entry.version, "outputs": entry.outputs, "run": entry.run,
                "action": entry.action, "created_at": entry.created_at}
        self.data.put_bytes(self._path(entry.task, entry.key), json.dumps(body).encode(),
                            parents=entry.task not in self._folders)
        self._folders.add(entry.task)

    def clear(self, task: str | None = None) -> int:
        """Delete entries (of one task, if given) from the index and the data store; return how many."""
        n = self.runs.delete_cache(task)
        self._hits = {k: e for k, e in self._hits.items() if task is not None and k[0] != task}
        self._preloaded = {k: e for k, e in self._preloaded.items() if task is not None and k[0] != task}
        self._loaded = {t for t in self._loaded if task is not None and t != task}
        path = "cache" if task is None else f"cache/{task}"
        if self.data.exists(path):
            self.data.rm(path, recursive=True)
        return n
