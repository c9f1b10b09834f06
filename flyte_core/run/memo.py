"""Not doing work twice: outputs reused from a recovered run, from the cache, or from an identical
call already in flight in this run (single flight)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

import attrs

from flyte_core.run.cache import Cache, inputs_hash, key_from, key_prefix, task_version
from flyte_core.runstore.records import ActionRecord, Phase
from flyte_core.task.template import TaskTemplate


@attrs.frozen
class Hit:
    """Outputs that can stand in for running an action, and where they came from."""

    outputs: Mapping[str, Any]
    cache_hit: bool = False
    recovered_from: str | None = None


@attrs.define
class Claim:
    """A cacheable call: its key and version, and either the future this call must complete for
    others (``leader``) or the one it may wait on (``wait``)."""

    task: str
    key: str
    version: str
    behavior: str
    leader: Future[Mapping[str, Any] | None] | None = None
    wait: Future[Mapping[str, Any] | None] | None = None
    #: Already in the cache when claimed (nothing to run, nobody to wake).
    hit: Hit | None = None
    #: The cache was looked up when claimed (a miss need not be looked up again).
    looked: bool = False


class Reuse:
    """Decides, per call, whether its outputs already exist. One per run; thread-safe."""

    def __init__(self, cache: Cache | None, prior_run: str | None, prior: list[ActionRecord],
                 overwrite: bool = False) -> None:
        self.cache = cache
        self.prior_run = prior_run
        self._prior = {a.action: a for a in prior if a.phase is Phase.SUCCEEDED and a.outputs is not None}
        # flyte.durable records of the recovered run: (parent, name, call index) -> value.
        self._durable: dict[tuple[str | None, str, int], float] = {}
        for a in self._prior.values():
            if a.task.startswith("durable:") and a.inputs and a.outputs:
                index, value = a.inputs.get("index", {}).get("d"), a.outputs.get("o0", {}).get("d")
                if isinstance(index, int) and isinstance(value, int | float):
                    self._durable[(a.parent, a.task.removeprefix("durable:"), index)] = float(value)
        self.overwrite = overwrite
        self._inflight: dict[tuple[str, str], Future[Mapping[str, Any] | None]] = {}
        self._lock = threading.Lock()
        #: id(task) -> (task, version, key prefix, ignored inputs): the parts of its cache keys
        #: that are the same for every call, worked out on its first call (the task is held so
        #: its id is not reused).
        self._keys: dict[int, tuple[TaskTemplate[Any, Any], str, Any, tuple[str, ...]]] = {}

    @property
    def recovering(self) -> bool:
        """Whether this run reuses actions of a recovered run."""
        return bool(self._prior)

    def recovered(self, action: str, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any]) -> Hit | None:
        """The outputs of the same action of the recovered run, if it succeeded there with the same
        task and inputs."""
        old = self._prior.get(action)
        if old is None or old.task != task.name or old.inputs is None:
            return None
        if inputs_hash(old.inputs) != inputs_hash(inputs):
            return None
        assert old.outputs is not None
        return Hit(old.outputs, recovered_from=self.prior_run)

    def prior_durable(self, parent: str, name: str, index: int) -> float | None:
        """The value call ``index`` of ``flyte.durable.<name>`` in ``parent`` had in the recovered run."""
        return self._durable.get((parent, name, index))

    def claim(self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any]) -> Claim | None:
        """A claim for a cacheable call (None when the task does not cache)."""
        found = self._lookup(task, inputs)
        if found is None:
            return None
        key, version, outputs = found
        if outputs is not None:
            return Claim(task.name, key, version, "auto", hit=Hit(outputs, cache_hit=True))
        return self._claim(task, key, version)

    def claim_or_outputs(self, task: TaskTemplate[Any, Any],
                         inputs: Mapping[str, Any]) -> Claim | Mapping[str, Any] | None:
        """:meth:`claim`, except that a cache hit (nothing to run, nobody to wake) is its outputs."""
        found = self._lookup(task, inputs)
        if found is None:
            return None
        key, version, outputs = found
        return outputs if outputs is not None else self._claim(task, key, version)

    def _lookup(self, task: TaskTemplate[Any, Any],
                inputs: Mapping[str, Any]) -> tuple[str, str, Mapping[str, Any] | None] | None:
        """The call's cache key and version, and its cached outputs if they are to be reused (None
        when the task does not cache)."""
        if self.cache is None or not task.cache.is_enabled():
            return None
        parts = self._keys.get(id(task))
        if parts is None:
            version = task_version(task)
            parts = self._keys[id(task)] = (task, version, key_prefix(task.name, version, task.cache.salt),
                                            task.cache.get_ignored_inputs())
        key = key_from(parts[2], parts[3], inputs)
        # Flyte 2: "override" caches like "auto", with the version given by version_override;
        # only the run's overwrite_cache option recomputes (and replaces the entry).
        return key, parts[1], None if self.overwrite else self.cache.outputs(task.name, key)

    def _claim(self, task: TaskTemplate[Any, Any], key: str, version: str) -> Claim:
        """A claim for a call not served from the cache: it leads (runs and fills the cache) or
        waits for an identical call in flight."""
        behavior = "recompute" if self.overwrite else "auto"
        claim = Claim(task.name, key, version, behavior, looked=behavior == "auto")
        with self._lock:
            running = self._inflight.get((task.name, key))
            if running is not None and behavior == "auto":
                claim.wait = running
            else:
                claim.leader = self._inflight[(task.name, key)] = Future()
        return claim

    def cached(self, claim: Claim) -> Hit | None:
        """The cached outputs for ``claim``, unless its behavior is to recompute."""
        if claim.hit is not None:
            return claim.hit
        if claim.behavior != "auto" or self.cache is None or claim.looked:
            return None
        outputs = self.cache.outputs(claim.task, claim.key)
        return Hit(outputs, cache_hit=True) if outputs is not None else None

    def release(self, claim: Claim | None, outputs: Mapping[str, Any]) -> None:
        """A claimed call was served from the cache: wake calls waiting on it, keep nothing."""
        if claim is None or claim.leader is None:
            return
        with self._lock:
            if self._inflight.get((claim.task, claim.key)) is claim.leader:
                del self._inflight[(claim.task, claim.key)]
        if not claim.leader.done():
            claim.leader.set_result(outputs)

    def finish(self, claim: Claim | None, outputs: Mapping[str, Any] | None, run: str, action: str) -> None:
        """Store the outputs of a claimed call (None: it failed) and wake calls waiting on it."""
        if claim is None or claim.leader is None:
            return
        if outputs is not None and self.cache is not None:
            self.cache.put(claim.task, claim.key, claim.version, outputs, run, action)
        with self._lock:
            if self._inflight.get((claim.task, claim.key)) is claim.leader:
                del self._inflight[(claim.task, claim.key)]
        if not claim.leader.done():
            claim.leader.set_result(outputs)
