"""The state model behind the progress display: every action of one run, indexed by parent and group.

Events are applied on the run's recorder thread and snapshots are taken on rich's refresh thread, so
every access goes through one lock. Applying an event is O(1); a snapshot costs only what it shows,
because each set of siblings keeps its own phase counts and the ids of its notable members (failed or
in flight), so a map over 100,000 items is summarised without walking its items.
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter
from collections.abc import Mapping
from typing import TypeAlias

import attrs

from flyte_core.extend import ActionEvent, ActionRecord, Phase, RunEvent, RunRecord

#: Phases of an action that is in flight; shown before other siblings when siblings are collapsed.
ACTIVE_PHASES: frozenset[Phase] = frozenset({Phase.WAITING_FOR_RESOURCES, Phase.INITIALIZING, Phase.RUNNING})
#: Terminal phases other than success; shown first of all when siblings are collapsed.
PROBLEM_PHASES: frozenset[Phase] = frozenset(
    {Phase.FAILED, Phase.TIMED_OUT, Phase.ABORTED, Phase.INTERRUPTED}
)

#: How many children of one parent (or of one group) a snapshot shows by default.
DEFAULT_MAX_CHILDREN = 20


@attrs.frozen
class HiddenView:
    """Siblings a snapshot left out: how many, and how many are in each phase."""

    count: int
    counts: Mapping[Phase, int]


@attrs.frozen
class ActionView:
    """One action as a snapshot shows it, with the children it shows and a summary of the rest."""

    record: ActionRecord
    #: When the action ended: the record's ``ended_at``, else the time of its terminal event.
    ended_at: float | None
    children: tuple[ChildView, ...] = ()
    hidden: HiddenView | None = None


@attrs.frozen
class GroupView:
    """A named group of sibling actions (``flyte.group``) with its phase counts."""

    name: str
    total: int
    counts: Mapping[Phase, int]
    children: tuple[ActionView, ...] = ()
    hidden: HiddenView | None = None


#: What can appear under an action: another action or a group of actions.
ChildView: TypeAlias = ActionView | GroupView


@attrs.frozen
class Snapshot:
    """A consistent, immutable picture of a run's tree, cheap to render outside the lock."""

    run: RunRecord | None
    #: The top-level actions (normally just ``a0``).
    roots: tuple[ChildView, ...]
    hidden: HiddenView | None
    #: How many actions the run has, and how many are in each phase.
    total: int
    counts: Mapping[Phase, int]


class _Bucket:
    """The children of one parent inside one group (group ``None``: not in a group)."""

    __slots__ = ("active", "counts", "first", "problems", "seq", "size")

    def __init__(self, seq: int) -> None:
        #: Position of the bucket's first member among all the parent's children.
        self.seq = seq
        #: How many members it has had, and the ids of the first ones (as many as the tree keeps).
        self.size = 0
        self.first: list[str] = []
        self.counts: Counter[Phase] = Counter()
        #: Members in a problem phase / in flight, by their index among the members.
        self.problems: dict[str, int] = {}
        self.active: dict[str, int] = {}


class _Node:
    """What the tree keeps per action."""

    __slots__ = ("bucket", "ended_at", "index", "record", "seq")

    def __init__(self, record: ActionRecord, seq: int, bucket: _Bucket, index: int) -> None:
        self.record = record
        self.seq = seq
        self.bucket = bucket
        self.index = index
        self.ended_at: float | None = None


class ProgressTree:
    """The live state of one run's action tree; safe to use from any thread.

    Memory stays bounded however many actions a run has: an action that succeeded is forgotten (only
    its counts remain) unless a snapshot may still show it: it is among the first ``keep`` children of
    its parent (or group), or it has children. Failed and in-flight actions are always kept. A
    snapshot shows at most ``keep`` children per parent and per group.
    """

    def __init__(self, keep: int = DEFAULT_MAX_CHILDREN) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self._run: RunRecord | None = None
        self._nodes: dict[str, _Node] = {}
        #: parent id -> group name (None: ungrouped) -> bucket, in order of first appearance.
        self._buckets: dict[str | None, dict[str | None, _Bucket]] = {}
        self._next_seq: Counter[str | None] = Counter()
        self._counts: Counter[Phase] = Counter()
        self._seen_event = False

    @property
    def seen_event(self) -> bool:
        """True once any run or action event has been applied."""
        return self._seen_event

    def apply_run(self, event: RunEvent) -> None:
        """Remember the run record carried by a run event."""
        with self._lock:
            self._run = event.run
            self._seen_event = True

    def apply(self, event: ActionEvent) -> Phase | None:
        """Record an action's new state; returns the phase it had before (None if it is new). An
        action's terminal event is its last: one it was forgotten after would count as a new action."""
        rec = event.action
        with self._lock:
            self._seen_event = True
            node = self._nodes.get(rec.action)
            if node is None:
                previous = None
                seq, bucket = self._place(rec)
                self._counts[rec.phase] += 1
                bucket.counts[rec.phase] += 1
                if (rec.phase is Phase.SUCCEEDED and bucket.size >= self._keep
                        and rec.action not in self._buckets):
                    # Told of first as done (a batch's latest state), never to be shown: counted
                    # only, as it would be once forgotten below.
                    bucket.size += 1
                    return None
                node = self._add(rec, seq, bucket)
            else:
                previous = node.record.phase
                if previous is not rec.phase:
                    self._counts[previous] -= 1
                    self._counts[rec.phase] += 1
                    node.bucket.counts[previous] -= 1
                    node.bucket.counts[rec.phase] += 1
                node.record = rec
            bucket = node.bucket
            bucket.problems.pop(rec.action, None)
            bucket.active.pop(rec.action, None)
            if rec.phase in PROBLEM_PHASES:
                bucket.problems[rec.action] = node.index
            elif rec.phase in ACTIVE_PHASES:
                bucket.active[rec.action] = node.index
            if rec.phase.is_terminal:
                node.ended_at = rec.ended_at if rec.ended_at is not None else event.at
                if rec.phase not in PROBLEM_PHASES and node.index >= self._keep and rec.action not in self._buckets:
                    del self._nodes[rec.action]  # never shown again: its counts are all that is needed
            else:
                node.ended_at = None
            return previous

    def _place(self, rec: ActionRecord) -> tuple[int, _Bucket]:
        """A new action's position among its parent's children, and its bucket (made if new)."""
        seq = self._next_seq[rec.parent]
        self._next_seq[rec.parent] += 1
        groups = self._buckets.setdefault(rec.parent, {})
        bucket = groups.get(rec.group)
        if bucket is None:
            bucket = groups[rec.group] = _Bucket(seq)
        return seq, bucket

    def _add(self, rec: ActionRecord, seq: int, bucket: _Bucket) -> _Node:
        node = _Node(rec, seq, bucket, bucket.size)
        bucket.size += 1
        if node.index < self._keep:
            bucket.first.append(rec.action)
        self._nodes[rec.action] = node
        return node

    def record(self, action: str) -> ActionRecord | None:
        """The latest record of ``action``, if it has been seen (and is kept: see the class)."""
        with self._lock:
            node = self._nodes.get(action)
            return node.record if node is not None else None

    def snapshot(self, max_children: int = DEFAULT_MAX_CHILDREN) -> Snapshot:
        """The tree as it is now, showing at most ``max_children`` (and at most ``keep``) actions per
        parent and per group.

        When siblings are collapsed, failed ones come first, then those in flight, then the earliest
        of the rest; the shown ones keep their order and the others are summarised.
        """
        with self._lock:
            roots, hidden = self._children(None, max_children)
            total = sum(self._counts.values())
            return Snapshot(self._run, roots, hidden, total, _positive(self._counts))

    def _children(self, parent: str | None, limit: int) -> tuple[tuple[ChildView, ...], HiddenView | None]:
        groups = self._buckets.get(parent)
        if not groups:
            return (), None
        items: list[tuple[int, ChildView]] = []
        hidden: HiddenView | None = None
        for name, bucket in groups.items():
            if name is None:
                shown, hidden = self._pick(bucket, limit)
                items.extend((self._nodes[i].seq, self._action_view(i, limit)) for i in shown)
            else:
                shown, group_hidden = self._pick(bucket, limit)
                view = GroupView(
                    name,
                    bucket.size,
                    _positive(bucket.counts),
                    tuple(self._action_view(i, limit) for i in shown),
                    group_hidden,
                )
                items.append((bucket.seq, view))
        items.sort(key=lambda item: item[0])
        return tuple(view for _, view in items), hidden

    def _action_view(self, action: str, limit: int) -> ActionView:
        node = self._nodes[action]
        children, hidden = self._children(action, limit)
        return ActionView(node.record, node.ended_at, children, hidden)

    def _pick(self, bucket: _Bucket, limit: int) -> tuple[list[str], HiddenView | None]:
        limit = min(limit, self._keep)
        if bucket.size <= limit:
            return list(bucket.first), None
        # index -> id: failed ones first, then those in flight, then the earliest of the rest (which are
        # among the first `keep`: fewer than `limit` of those can be taken already).
        chosen = dict(heapq.nsmallest(limit, ((i, a) for a, i in bucket.problems.items())))
        if len(chosen) < limit:
            chosen.update(heapq.nsmallest(limit - len(chosen), ((i, a) for a, i in bucket.active.items())))
        index = 0
        while len(chosen) < limit:
            if index not in chosen:
                chosen[index] = bucket.first[index]
            index += 1
        shown = [chosen[i] for i in sorted(chosen)]
        rest = Counter(bucket.counts)
        for action in shown:
            rest[self._nodes[action].record.phase] -= 1
        return shown, HiddenView(bucket.size - len(shown), _positive(rest))


def _positive(counts: Counter[Phase]) -> dict[Phase, int]:
    return {phase: n for phase, n in counts.items() if n > 0}
