"""flyte-progress: the action tree model, its rendering, the live and plain observers, the hook."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flyte_progress.display import build_tree, format_duration, short_task_name
from flyte_progress.observer import LiveTreeObserver
from flyte_progress.tree import ActionView, ProgressTree
from rich.console import Console

import flyte
from flyte_core.extend import ActionEvent, ActionRecord, ErrorInfo, Phase, RunEvent, RunObserver, RunRecord, Session
from flyte_core.testing import make_plugins

T0 = 1_000.0


def clock() -> float:
    return T0 + 10


def run_event(phase: Phase, *, ended: float | None = None) -> RunEvent:
    run = RunRecord("r1", "env.main", phase, "local", T0, started_at=T0, ended_at=ended)
    return RunEvent(run, phase)


def action_event(
    action: str,
    phase: Phase,
    *,
    task: str = "env.step",
    group: str | None = None,
    attempts: int = 1,
    duration: float = 1.0,
    **changes: Any,
) -> ActionEvent:
    """An event for ``action`` (its parent is its id without the last part) in ``phase``."""
    parent = action.rsplit(".", 1)[0] if "." in action else None
    started = T0 if phase not in (Phase.QUEUED, Phase.WAITING_FOR_RESOURCES) else None
    ended = T0 + duration if phase.is_terminal else None
    rec = ActionRecord(
        "r1", action, parent, task, phase, attempts=attempts, group=group, created_at=T0,
        started_at=started, ended_at=ended, **changes,
    )
    return ActionEvent("r1", rec, phase, attempts, ended or T0)


def render(obs: LiveTreeObserver, *, animate: bool = False) -> str:
    """The observer's tree as plain text, the way a 100-column terminal would show it."""
    console = Console(file=io.StringIO(), force_terminal=True, width=100, record=True, color_system=None)
    obs.view.animate = animate
    console.print(obs.view)
    return console.export_text()


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


@pytest.fixture
def threads_restored() -> Iterator[None]:
    before = threading.active_count()
    yield
    deadline = time.monotonic() + 2
    while threading.active_count() != before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]


def pipeline_events() -> list[ActionEvent]:
    return [
        action_event("a0", Phase.QUEUED, task="env.main"),
        action_event("a0", Phase.RUNNING, task="env.main"),
        action_event("a0.1", Phase.RUNNING, task="env.step_one"),
        action_event("a0.1", Phase.SUCCEEDED, task="env.step_one", duration=0.01),
        action_event("a0.2", Phase.RUNNING, task="env.step_two"),
        action_event("a0.2.1", Phase.SUCCEEDED, task="trace:helper", cache_hit=True, duration=0.5),
        action_event(
            "a0.2", Phase.FAILED, task="env.step_two", attempts=3, duration=2,
            error=ErrorInfo("ValueError", "user", "boom"),
        ),
        action_event("a0.3", Phase.ABORTED, task="env.step_three"),
        action_event("a0.4", Phase.TIMED_OUT, task="env.step_four"),
        action_event("a0", Phase.FAILED, task="env.main", duration=3),
    ]


# --- formatting helpers --------------------------------------------------------------------------


def test_short_task_names_and_durations() -> None:
    assert short_task_name("my_env.step_one") == "step_one"
    assert short_task_name("trace:helper") == "trace:helper"
    assert short_task_name("trace:pkg.helper") == "trace:helper"
    assert format_duration(0.0123) == "0.01s"
    assert format_duration(12.34) == "12.3s"
    assert format_duration(245) == "4m05s"
    assert format_duration(7620) == "2h07m"


# --- the tree as rendered ------------------------------------------------------------------------


def test_tree_nests_actions_with_phase_markers() -> None:
    obs = LiveTreeObserver(Console(file=io.StringIO()), live=False, clock=clock)
    obs.on_run(run_event(Phase.RUNNING))
    for ev in pipeline_events():
        obs.on_action(ev)
    out = lines(render(obs))
    assert out[0] == "● r1 main running 10.0s · 6 actions: 2 ✓, 2 ✗, 1 timed out, 1 aborted"
    assert out[1] == "└── ✗ a0 main failed 3.00s"
    assert out[2] == "    ├── ✓ a0.1 step_one 0.01s"
    assert out[3] == "    ├── ✗ a0.2 step_two attempt 3 failed 2.00s — ValueError: boom"
    assert out[4] == "    │   └── ✓ a0.2.1 trace:helper 0.50s [cache]"
    assert out[5] == "    ├── ⊘ a0.3 step_three aborted 1.00s"
    assert out[6] == "    └── ✗ a0.4 step_four timed out 1.00s"
    assert len(out) == 7


def test_running_actions_spin_while_live_and_show_a_dot_when_static() -> None:
    obs = LiveTreeObserver(Console(file=io.StringIO()), live=False, clock=clock)
    obs.on_action(action_event("a0", Phase.RUNNING, task="env.main"))
    obs.on_action(action_event("a0.1", Phase.QUEUED))
    static = lines(render(obs))
    assert static == ["run · 2 actions: 1 running, 1 queued", "└── ● a0 main 10.0s", "    └── ○ a0.1 step queued"]
    animated = lines(render(obs, animate=True))[1]
    assert animated[4] in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def test_many_siblings_collapse_to_twenty_and_a_summary() -> None:
    obs = LiveTreeObserver(Console(file=io.StringIO()), live=False, clock=clock)
    obs.on_action(action_event("a0", Phase.RUNNING, task="env.main"))
    for i in range(1, 1001):
        obs.on_action(action_event(f"a0.{i}", Phase.RUNNING, task="env.square"))
        if i <= 970:
            obs.on_action(action_event(f"a0.{i}", Phase.SUCCEEDED, task="env.square"))
    out = lines(render(obs))
    children = [line for line in out if line.startswith(("    ├──", "    └──"))]
    assert len(children) == 21
    assert children[-1] == "    └── … 980 more (970 ✓, 10 running)"
    # the ones in flight are shown before the ones that are done, in their order
    shown = [line.split()[2] for line in children[:-1]]
    assert shown == [f"a0.{i}" for i in range(971, 991)]
    assert "1001 actions: 970 ✓, 31 running" in out[0]


def test_collapsed_siblings_fill_up_with_the_earliest_after_those_in_flight() -> None:
    obs = LiveTreeObserver(Console(file=io.StringIO()), live=False, clock=clock)
    obs.on_action(action_event("a0", Phase.RUNNING, task="env.main"))
    for i in range(1, 101):
        obs.on_action(action_event(f"a0.{i}", Phase.QUEUED))
    for i in (90, 95, 99):
        obs.on_action(action_event(f"a0.{i}", Phase.RUNNING))
    children = [line for line in lines(render(obs)) if line.startswith(("    ├──", "    └──"))]
    shown = [line.split()[2] for line in children[:-1]]
    assert shown == [f"a0.{i}" for i in range(1, 18)] + ["a0.90", "a0.95", "a0.99"]
    assert children[-1] == "    └── … 80 more (80 queued)"


def test_failures_are_never_collapsed_away() -> None:
    obs = LiveTreeObserver(Console(file=io.StringIO()), live=False, clock=clock)
    obs.on_action(action_event("a0", Phase.RUNNING, task="env.main"))
    for i in range(1, 101):  # a0.77 is retried: a terminal event is an action's last
        obs.on_action(action_event(f"a0.{i}", Phase.RUNNING if i == 77 else Phase.SUCCEEDED))
    obs.on_action(action_event("a0.77", Phase.RUNNING, attempts=2))
    obs.on_action(action_event("a0.77", Phase.FAILED, attempts=2))
    out = render(obs)
    assert "✗ a0.77 step attempt 2 failed" in out
    assert "… 80 more (80 ✓)" in out
    assert "100 ✓" not in out.splitlines()[0]
    assert "99 ✓, 1 ✗" in out.splitlines()[0]


def test_grouped_actions_sit_under_their_group_node() -> None:
    obs = LiveTreeObserver(Console(file=io.StringIO()), live=False, clock=clock)
    obs.on_action(action_event("a0", Phase.RUNNING, task="env.main"))
    obs.on_action(action_event("a0.1", Phase.SUCCEEDED, task="env.prepare"))
    for i in range(2, 32):
        phase = Phase.SUCCEEDED if i < 27 else Phase.RUNNING
        obs.on_action(action_event(f"a0.{i}", phase, task="env.square", group="squares"))
    obs.on_action(action_event("a0.40", Phase.QUEUED, task="env.report"))
    out = lines(render(obs))
    assert out[1] == "└── ● a0 main 10.0s"
    assert out[2] == "    ├── ✓ a0.1 prepare 1.00s"
    assert out[3] == "    ├── ● squares (30: 25 ✓, 5 running)"
    members = [line for line in out if line.startswith("    │   ")]
    assert len(members) == 21
    assert all("square" in line for line in members[:-1])
    assert members[-1] == "    │   └── … 10 more (10 ✓)"
    assert out[-1] == "    └── ○ a0.40 report queued"


def test_a_parent_failed_by_its_child_names_the_child() -> None:
    obs = LiveTreeObserver(Console(file=io.StringIO()), live=False, clock=clock)
    error = ErrorInfo("ValueError", "user", "ValueError: nope", action="a0.1")
    obs.on_action(action_event("a0.1", Phase.FAILED, task="env.boom", error=error))
    obs.on_action(action_event("a0", Phase.FAILED, task="env.outer", error=error))
    out = render(obs)
    assert "✗ a0 outer failed 1.00s — ValueError: nope (in a0.1)" in out
    assert "✗ a0.1 boom failed 1.00s — ValueError: nope\n" in out


def test_snapshot_only_reports_positive_counts_after_phase_changes() -> None:
    tree = ProgressTree()
    assert tree.apply(action_event("a0", Phase.QUEUED)) is None
    assert tree.apply(action_event("a0", Phase.RUNNING)) is Phase.QUEUED
    assert tree.apply(action_event("a0", Phase.SUCCEEDED)) is Phase.RUNNING
    snap = tree.snapshot()
    assert snap.total == 1
    assert dict(snap.counts) == {Phase.SUCCEEDED: 1}
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(build_tree(snap, clock()))
    assert "✓ a0 step 1.00s" in out.getvalue()


def test_events_from_many_threads_are_all_counted() -> None:
    tree = ProgressTree()
    tree.apply(action_event("a0", Phase.RUNNING))

    def feed(start: int) -> None:
        for i in range(start, start + 500):
            tree.apply(action_event(f"a0.{i}", Phase.RUNNING))
            tree.apply(action_event(f"a0.{i}", Phase.SUCCEEDED))

    threads = [threading.Thread(target=feed, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for _ in range(20):
        tree.snapshot()
    for t in threads:
        t.join()
    snap = tree.snapshot()
    assert snap.total == 2001
    assert dict(snap.counts) == {Phase.RUNNING: 1, Phase.SUCCEEDED: 2000}


# --- the live display ----------------------------------------------------------------------------


def test_live_display_starts_on_first_event_and_close_leaves_the_final_tree(threads_restored: None) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100, record=True, color_system=None)
    obs = LiveTreeObserver(console, clock=clock)
    assert not obs.is_live
    obs.on_log("a0", "stdout", "ignored")
    assert not obs.is_live
    assert console.export_text(clear=False) == ""
    obs.on_run(run_event(Phase.RUNNING))
    assert obs.is_live
    for ev in pipeline_events():
        obs.on_action(ev)
    obs.on_run(run_event(Phase.FAILED, ended=T0 + 3))
    obs.close()
    assert not obs.is_live
    out = console.export_text()
    final = out[out.rindex("✗ r1 main failed 3.00s"):]
    assert "└── ✗ a0 main failed 3.00s" in final
    assert "✗ a0.2 step_two attempt 3 failed 2.00s — ValueError: boom" in final
    assert "ignored" not in out
    # close is idempotent and later events do not restart the display
    obs.close()
    obs.on_action(action_event("a0.9", Phase.RUNNING))
    assert not obs.is_live
    assert console.export_text() == ""


def test_live_display_refreshes_on_its_own(threads_restored: None) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    obs = LiveTreeObserver(console, refresh_per_second=50, clock=clock)
    obs.on_action(action_event("a0", Phase.RUNNING, task="env.main"))
    before = len(console.file.getvalue())  # type: ignore[attr-defined]
    time.sleep(0.2)
    assert len(console.file.getvalue()) > before  # type: ignore[attr-defined]
    obs.close()


def test_close_without_events_prints_nothing(threads_restored: None) -> None:
    for force_terminal in (True, False):
        out = io.StringIO()
        obs = LiveTreeObserver(Console(file=out, force_terminal=force_terminal, width=100))
        obs.close()
        obs.close()
        assert out.getvalue() == ""


# --- plain lines for non-terminals ---------------------------------------------------------------


def test_non_terminal_prints_one_line_per_finished_action_and_a_summary(threads_restored: None) -> None:
    out = io.StringIO()
    console = Console(file=out, width=100)
    assert not console.is_terminal
    obs = LiveTreeObserver(console, clock=clock)
    obs.on_run(run_event(Phase.RUNNING))
    for ev in pipeline_events():
        obs.on_action(ev)
    obs.on_log("a0.1", "stdout", "hello")
    assert not obs.is_live
    obs.on_run(run_event(Phase.FAILED, ended=T0 + 3))
    obs.close()
    obs.close()
    assert lines(out.getvalue()) == [
        "✓ a0.1 step_one 0.01s",
        "✓ a0.2.1 trace:helper 0.50s [cache]",
        "✗ a0.2 step_two attempt 3 failed 2.00s — ValueError: boom",
        "⊘ a0.3 step_three aborted 1.00s",
        "✗ a0.4 step_four timed out 1.00s",
        "✗ a0 main failed 3.00s",
        "✗ run r1 failed in 3.00s · 6 actions: 2 ✓, 2 ✗, 1 timed out, 1 aborted",
    ]


def test_non_terminal_lists_at_most_twenty_successes_per_parent() -> None:
    out = io.StringIO()
    obs = LiveTreeObserver(Console(file=out, width=100), clock=clock)
    obs.on_action(action_event("a0", Phase.RUNNING, task="env.main"))
    for i in range(1, 101):
        obs.on_action(action_event(f"a0.{i}", Phase.RUNNING))
        obs.on_action(action_event(f"a0.{i}", Phase.FAILED if i == 50 else Phase.SUCCEEDED))
    obs.on_action(action_event("a0", Phase.SUCCEEDED, task="env.main"))
    obs.close()
    printed = lines(out.getvalue())
    assert len(printed) == 20 + 1 + 1 + 1  # 20 successes, the failure, a0, the summary
    assert "✗ a0.50 step failed 1.00s" in printed
    assert printed[-1] == "run · 101 actions: 100 ✓, 1 ✗ (79 successful actions not listed)"


# --- the plugin ----------------------------------------------------------------------------------


def test_hook_returns_a_run_observer() -> None:
    ps = make_plugins("flyte_progress.plugin")
    obs = ps.hook.flyte_progress_observer(console=Console(file=io.StringIO()))
    assert isinstance(obs, LiveTreeObserver)
    assert isinstance(obs, RunObserver)


def test_entry_point_is_registered() -> None:
    ps = make_plugins(autoload=True)
    info = {i.name: i for i in ps.infos()}
    assert info["progress"].hooks == ("flyte_progress_observer",)
    assert info["progress"].distribution == "flyte-progress"


# --- a real run ----------------------------------------------------------------------------------

env = flyte.TaskEnvironment(name="progress_test")


@env.task
def square(x: int) -> int:
    return x * x


@env.task
def total(n: int) -> int:
    with flyte.group("squares"):
        values = [square(i) for i in range(n)]
    return sum(values)


def test_a_real_run_ends_with_a_succeeded_tree(flyte_session: Session, threads_restored: None) -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=100, record=True, color_system=None)
    obs = LiveTreeObserver(console)
    run = flyte.with_runcontext(observers=(obs,), session=flyte_session).run(total, n=25)
    assert run.outputs()[0] == sum(i * i for i in range(25))
    assert not obs.is_live
    out = console.export_text()
    final = out[out.rindex(" total succeeded "):]
    assert "26 actions: 26 ✓" in final
    assert "└── ✓ a0 total" in final
    assert "✓ squares (25: 25 ✓)" in final
    assert "… 5 more (5 ✓)" in final


def test_a_large_run_is_summarised_without_keeping_every_action() -> None:
    tree = ProgressTree(keep=20)
    tree.apply(action_event("a0", Phase.RUNNING, task="env.main"))
    for i in range(1, 10_001):
        tree.apply(action_event(f"a0.{i}", Phase.RUNNING))
        tree.apply(action_event(f"a0.{i}", Phase.FAILED if i == 7000 else Phase.SUCCEEDED))
    tree.apply(action_event("a0.10001", Phase.RUNNING))
    # succeeded actions past the first 20 are forgotten; the shown, failed and running ones are kept
    assert tree.record("a0.20") is not None and tree.record("a0.21") is None and tree.record("a0.9999") is None
    assert tree.record("a0.7000") is not None and tree.record("a0.10001") is not None
    snap = tree.snapshot(50)  # at most what the tree keeps per parent
    assert snap.total == 10_002
    assert dict(snap.counts) == {Phase.RUNNING: 2, Phase.SUCCEEDED: 9_999, Phase.FAILED: 1}
    (root,) = snap.roots
    assert isinstance(root, ActionView)
    shown = [c.record.action for c in root.children if isinstance(c, ActionView)]
    assert shown == [f"a0.{i}" for i in range(1, 19)] + ["a0.7000", "a0.10001"]
    assert root.hidden is not None and root.hidden.count == 9_981 and dict(root.hidden.counts) == {
        Phase.SUCCEEDED: 9_981}


def test_actions_first_told_as_finished_are_counted_and_kept_only_where_shown() -> None:
    """What a ``latest_only`` observer sees of a busy run: most actions arrive already finished."""
    tree = ProgressTree(keep=20)
    tree.apply(action_event("a0", Phase.RUNNING, task="env.main"))
    for i in range(1, 5_001):
        tree.apply(action_event(f"a0.{i}", Phase.SUCCEEDED))
    tree.apply(action_event("a0.5001", Phase.FAILED))
    tree.apply(action_event("a0.5002", Phase.RUNNING))
    tree.apply(action_event("a0.5002.1", Phase.SUCCEEDED))  # its first child: shown under it
    tree.apply(action_event("a0.5002", Phase.SUCCEEDED))  # a parent past the first 20 stays: it has children
    assert tree.record("a0.20") is not None and tree.record("a0.21") is None and tree.record("a0.5000") is None
    assert tree.record("a0.5001") is not None and tree.record("a0.5002") is not None
    snap = tree.snapshot(20)
    assert snap.total == 5_004
    assert dict(snap.counts) == {Phase.RUNNING: 1, Phase.SUCCEEDED: 5_002, Phase.FAILED: 1}
    (root,) = snap.roots
    assert isinstance(root, ActionView)
    shown = [c.record.action for c in root.children if isinstance(c, ActionView)]
    assert shown == [*(f"a0.{i}" for i in range(1, 20)), "a0.5001"]
    assert root.hidden is not None and root.hidden.count == 4_982
