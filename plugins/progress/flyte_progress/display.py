"""Turns a :class:`~flyte_progress.tree.Snapshot` into rich renderables: phase icons and colours,
short task names, durations, sibling summaries, and the tree itself."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import attrs
from rich.console import Group
from rich.text import Text
from rich.tree import Tree

from flyte_core.extend import ActionRecord, Phase, RunRecord
from flyte_progress.tree import (
    ACTIVE_PHASES,
    DEFAULT_MAX_CHILDREN,
    PROBLEM_PHASES,
    ChildView,
    GroupView,
    HiddenView,
    ProgressTree,
    Snapshot,
)

#: Frames of the spinner drawn for running actions while the display is live.
SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
#: Longest error message shown next to a failed action.
MAX_ERROR_CHARS = 80


@attrs.frozen
class PhaseStyle:
    """How a phase is drawn: an icon, a rich style, and a word for summaries."""

    icon: str
    style: str
    label: str


#: The look of every phase.
PHASE_STYLES: Mapping[Phase, PhaseStyle] = {
    Phase.QUEUED: PhaseStyle("○", "dim", "queued"),
    Phase.WAITING_FOR_RESOURCES: PhaseStyle("○", "yellow", "waiting"),
    Phase.INITIALIZING: PhaseStyle("◌", "cyan", "initializing"),
    Phase.RUNNING: PhaseStyle("●", "cyan", "running"),
    Phase.SUCCEEDED: PhaseStyle("✓", "green", "succeeded"),
    Phase.FAILED: PhaseStyle("✗", "red", "failed"),
    Phase.ABORTED: PhaseStyle("⊘", "yellow", "aborted"),
    Phase.TIMED_OUT: PhaseStyle("✗", "red", "timed out"),
    Phase.INTERRUPTED: PhaseStyle("⊘", "yellow", "interrupted"),
}

#: The order phases are listed in summaries ("970 ✓, 2 ✗, 10 running, 18 queued").
_SUMMARY_ORDER = (
    Phase.SUCCEEDED, Phase.FAILED, Phase.TIMED_OUT, Phase.ABORTED, Phase.INTERRUPTED,
    Phase.RUNNING, Phase.INITIALIZING, Phase.WAITING_FOR_RESOURCES, Phase.QUEUED,
)


def short_task_name(task: str) -> str:
    """The last part of a task name: ``"env.step_one"`` → ``"step_one"``, ``"trace:a.b"`` → ``"trace:b"``."""
    prefix, sep, rest = task.partition(":")
    if sep and "." not in prefix:
        return f"{prefix}:{rest.rsplit('.', 1)[-1]}"
    return task.rsplit(".", 1)[-1]


def format_duration(seconds: float) -> str:
    """A compact duration: ``0.01s``, ``12.3s``, ``4m05s``, ``2h07m``."""
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def format_counts(counts: Mapping[Phase, int]) -> str:
    """Phase counts as words: ``"970 ✓, 2 ✗, 10 running"`` (success and failure by their icons)."""
    parts = []
    for phase in _SUMMARY_ORDER:
        n = counts.get(phase, 0)
        if n <= 0:
            continue
        style = PHASE_STYLES[phase]
        word = style.icon if phase in (Phase.SUCCEEDED, Phase.FAILED) else style.label
        parts.append(f"{n} {word}")
    return ", ".join(parts)


def action_elapsed(record: ActionRecord, ended_at: float | None, now: float) -> float | None:
    """How long an action ran (if it ended) or has been running (if it is in flight), else None."""
    start = record.started_at or record.created_at or None
    if start is None:
        return None
    if record.phase.is_terminal:
        end = record.ended_at or ended_at
        return end - start if end else None
    if record.phase in (Phase.RUNNING, Phase.INITIALIZING) and record.started_at:
        return now - record.started_at
    return None


def run_elapsed(run: RunRecord, now: float) -> float | None:
    """How long the run took (or has taken so far), if it has a start time."""
    start = run.started_at or run.created_at or None
    if start is None:
        return None
    end = run.ended_at if run.phase.is_terminal and run.ended_at else now
    return end - start


def phase_icon(phase: Phase, frame: int | None = None) -> Text:
    """The phase's icon in its colour; running actions get a spinner frame when ``frame`` is given."""
    style = PHASE_STYLES[phase]
    icon = style.icon
    if frame is not None and phase is Phase.RUNNING:
        icon = SPINNER_FRAMES[frame % len(SPINNER_FRAMES)]
    return Text(icon, style=style.style)


def action_line(record: ActionRecord, ended_at: float | None, now: float, frame: int | None = None) -> Text:
    """One action on one line: ``✓ a0.1 step_one attempt 2 0.01s [cache]`` (plus the error if it failed)."""
    style = PHASE_STYLES[record.phase]
    text = phase_icon(record.phase, frame)
    text.append(" ")
    text.append(record.action, style="dim")
    text.append(" ")
    text.append(short_task_name(record.task), style="bold" if record.phase in ACTIVE_PHASES else "")
    if record.attempts > 1:
        text.append(f" attempt {record.attempts}", style="yellow")
    if record.phase not in (Phase.SUCCEEDED, Phase.RUNNING):
        text.append(f" {style.label}", style=style.style)
    elapsed = action_elapsed(record, ended_at, now)
    if elapsed is not None:
        text.append(f" {format_duration(elapsed)}", style="dim")
    if record.cache_hit:
        text.append(" [cache]", style="blue")
    if record.phase in PROBLEM_PHASES and record.error is not None:
        message = _error_text(record)
        if len(message) > MAX_ERROR_CHARS:
            message = message[: MAX_ERROR_CHARS - 1] + "…"
        text.append(f" — {message}", style="red")
    return text


def _error_text(record: ActionRecord) -> str:
    """``ValueError: boom`` (the code is added when the message does not start with it), plus the
    failing child when the error came from one."""
    error = record.error
    assert error is not None
    message = error.message.strip().splitlines()[0] if error.message.strip() else ""
    if error.code and not message.startswith(error.code):
        message = f"{error.code}: {message}" if message else error.code
    if error.action and error.action != record.action:
        message += f" (in {error.action})"
    return message


def _group_phase(counts: Mapping[Phase, int], total: int) -> Phase:
    """The phase a group's icon shows: in flight if any member is, else failed if any failed, ..."""
    if any(counts.get(p) for p in ACTIVE_PHASES):
        return Phase.RUNNING
    if counts.get(Phase.QUEUED):
        return Phase.QUEUED
    for phase in (Phase.FAILED, Phase.TIMED_OUT, Phase.ABORTED, Phase.INTERRUPTED):
        if counts.get(phase):
            return phase
    return Phase.SUCCEEDED if counts.get(Phase.SUCCEEDED, 0) == total else Phase.QUEUED


def group_line(group: GroupView, frame: int | None = None) -> Text:
    """A group's header: ``● fan_out (20: 12 ✓, 8 running)``."""
    text = phase_icon(_group_phase(group.counts, group.total), frame)
    text.append(" ")
    text.append(group.name, style="bold magenta")
    text.append(f" ({group.total}: {format_counts(group.counts)})", style="dim")
    return text


def hidden_line(hidden: HiddenView) -> Text:
    """The summary of collapsed siblings: ``… 980 more (970 ✓, 10 running)``."""
    return Text(f"… {hidden.count} more ({format_counts(hidden.counts)})", style="dim")


def header_line(snapshot: Snapshot, now: float, frame: int | None = None) -> Text:
    """The tree's root: the run's name, root task, phase, time, and counts of all its actions."""
    run = snapshot.run
    if run is None:
        text = Text("run", style="bold")
    else:
        text = phase_icon(run.phase, frame)
        text.append(" ")
        text.append(run.name, style="bold")
        text.append(" ")
        text.append(short_task_name(run.task))
        style = PHASE_STYLES[run.phase]
        text.append(f" {style.label}", style=style.style)
        elapsed = run_elapsed(run, now)
        if elapsed is not None:
            text.append(f" {format_duration(elapsed)}", style="dim")
    if snapshot.total:
        noun = "action" if snapshot.total == 1 else "actions"
        text.append(f" · {snapshot.total} {noun}: {format_counts(snapshot.counts)}", style="dim")
    return text


def build_tree(snapshot: Snapshot, now: float, frame: int | None = None) -> Tree:
    """The whole run as a rich ``Tree``; ``frame`` animates running actions (None: static ``●``)."""
    root = Tree(_no_wrap(header_line(snapshot, now, frame)), guide_style="dim")
    _add_children(root, snapshot.roots, snapshot.hidden, now, frame)
    return root


def _add_children(
    branch: Tree, children: tuple[ChildView, ...], hidden: HiddenView | None, now: float, frame: int | None
) -> None:
    for child in children:
        if isinstance(child, GroupView):
            sub = branch.add(_no_wrap(group_line(child, frame)))
            _add_children(sub, child.children, child.hidden, now, frame)
        else:
            sub = branch.add(_no_wrap(action_line(child.record, child.ended_at, now, frame)))
            _add_children(sub, child.children, child.hidden, now, frame)
    if hidden is not None and hidden.count:
        branch.add(_no_wrap(hidden_line(hidden)))


def _no_wrap(text: Text) -> Text:
    """Keep a label on one line (cut with an ellipsis) so the live region keeps a stable height."""
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


class TreeView:
    """A renderable that draws a :class:`ProgressTree` afresh each time rich renders it.

    Give it to ``rich.live.Live``: Live's own refresh thread then does all the drawing, so applying
    events never renders anything.
    """

    def __init__(
        self,
        tree: ProgressTree,
        *,
        max_children: int = DEFAULT_MAX_CHILDREN,
        clock: Callable[[], float] = time.time,
        animate: bool = True,
    ) -> None:
        self.tree = tree
        self.max_children = max_children
        self.clock = clock
        #: Draw a spinner for running actions (turned off for the final, static render).
        self.animate = animate
        #: A line shown under the tree while set, e.g. the last line of an image build.
        self.status: str | None = None

    def render(self) -> Tree:
        """The tree as it is now."""
        now = self.clock()
        frame = int(time.monotonic() * 10) if self.animate else None
        return build_tree(self.tree.snapshot(self.max_children), now, frame)

    def __rich__(self) -> Tree | Group:
        """Called by rich on every refresh."""
        status = self.status
        if status is None:
            return self.render()
        return Group(self.render(), Text(f"  ⚙ {status}", style="dim", overflow="ellipsis", no_wrap=True))
