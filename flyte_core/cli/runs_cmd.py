"""``flyte runs list|show|logs``: look at runs recorded in the run store."""

from __future__ import annotations

import contextlib
import json
import time
from typing import TYPE_CHECKING, Any

import attrs
import click

from flyte_core.cli.common import CliState, complete_run_names, fail_usage
from flyte_core.runstore.records import ActionRecord, Phase, RunRecord

if TYPE_CHECKING:  # rich is imported by the commands that print with it
    from rich.console import Console
    from rich.tree import Tree

    from flyte_core.run.session import Session

#: Each phase's icon and colour: as rich markup for the tree views, as a click-coloured piece for tables.
_PHASE_ICON: dict[Phase, tuple[str, str]] = {
    Phase.QUEUED: ("○", "dim"), Phase.RUNNING: ("●", "cyan"), Phase.SUCCEEDED: ("✓", "green"),
    Phase.FAILED: ("✗", "red"), Phase.ABORTED: ("⊘", "yellow"), Phase.TIMED_OUT: ("⏱", "red"),
    Phase.INTERRUPTED: ("!", "yellow"),
}
_ICON = {phase: f"[{color}]{icon}[/{color}]" for phase, (icon, color) in _PHASE_ICON.items()}


def _duration(start: float | None, end: float | None) -> str:
    if start is None:
        return "-"
    secs = (end or time.time()) - start
    return f"{secs * 1000:.0f}ms" if secs < 1 else f"{secs:.2f}s"


def _get_run(state: CliState, name: str) -> RunRecord:
    rec = state.run_store().get_run(name)
    if rec is None:
        fail_usage(state.session().no_such_run(name))
    if not rec.phase.is_terminal:  # its controller may be gone, or drive it elsewhere: the session settles it
        rec = state.session().get_run(name) or rec
    return rec


def _settled(state: CliState, runs: list[RunRecord]) -> list[RunRecord]:
    """``runs`` as the session sees them: a run not finished may have lost its controller (or be
    driven elsewhere, through a launcher plugin); a finished one is what the store holds, so a list
    of finished runs needs no session (and no plugins)."""
    if all(r.phase.is_terminal for r in runs):
        return runs
    session = state.session()
    return [r if r.phase.is_terminal else session.get_run(r.name) or r for r in runs]


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(attrs.asdict(obj), default=str))


@click.group("runs")
def runs_cmd() -> None:
    """List runs and look at one run's actions and logs."""


@runs_cmd.command("list")
@click.option("--status", type=click.Choice([p.value for p in Phase]), default=None, help="Only runs in this phase.")
@click.option("--task", default=None, help="Only runs of this task (env.function).")
@click.option("--since", default=None, metavar="WHEN",
              help="Only runs started since WHEN: a duration ago (30m, 2h, 1d) or an ISO date/time.")
@click.option("--limit", default=20, show_default=True, help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_obj
def list_runs(state: CliState, status: str | None, task: str | None, since: str | None, limit: int,
              as_json: bool) -> None:
    """Runs, newest first."""
    as_json = as_json or state.as_json  # flyte --output-format json
    runs = _settled(state, state.run_store().list_runs(limit=limit, phase=Phase(status) if status else None,
                                                       task=task, since=_since(since) if since else None))
    if as_json:
        click.echo(json.dumps([_jsonable(r) for r in runs], indent=2))
        return
    if not runs:
        click.echo("no runs" + (" match" if status or task or since else " yet"), err=True)
        return
    from flyte_core.cli.table import Cell, Column, print_table

    columns = [Column("run"), Column("task"), Column("phase"), Column("started"), Column("duration", optional=True),
               Column("backend", optional=True)]
    rows: list[list[Cell]] = [
        [r.name, r.task, [_PHASE_ICON.get(r.phase, ("", None)), (f" {r.phase.value}", None)],
         time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.created_at)), _duration(r.started_at, r.ended_at),
         r.backend] for r in runs]
    print_table(columns, rows)


@runs_cmd.command("show")
@click.argument("run", shell_complete=complete_run_names)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("-f", "--follow", is_flag=True, help="Keep the tree updated until the run ends (Ctrl-C stops "
              "following; the run goes on).")
@click.option("--limit", default=1000, show_default=True, help="How many actions (in creation order); 0 for all.")
@click.option("--offset", default=0, show_default=True, help="Skip this many actions first (the next page).")
@click.pass_obj
def show_run(state: CliState, run: str, as_json: bool, follow: bool, limit: int, offset: int) -> None:
    """A run's action tree with phase, duration and attempts per action (a page of a large run)."""
    as_json = as_json or state.as_json  # flyte --output-format json
    rec = _get_run(state, run)
    store = state.run_store()
    actions = store.get_actions(run, offset=offset, limit=limit or None)
    if (limit and len(actions) == limit) or offset:
        total = store.count_actions(run)
        more = f"; --offset {offset + len(actions)} for the next page" if offset + len(actions) < total else ""
        click.echo(f"actions {offset + 1}-{offset + len(actions)} of {total:,}{more}", err=True)
    if as_json:
        click.echo(json.dumps({"run": _jsonable(rec), "actions": [_jsonable(a) for a in actions]}, indent=2))
        return
    from rich.console import Console

    console = Console()
    if follow and not rec.phase.is_terminal:
        rec, actions = _follow(state, run, console, offset=offset, limit=limit or None)
    console.print(_header(rec), highlight=False)
    console.print(build_tree(actions))
    if rec.error is not None:
        console.print(f"[red]{rec.error.message}[/red] (action {rec.error.action})", highlight=False)
        if rec.error.traceback:
            console.print(rec.error.traceback.rstrip(), highlight=False, markup=False)


def _header(rec: RunRecord) -> str:
    return (f"Run [bold]{rec.name}[/bold] · {rec.task} · {_ICON.get(rec.phase, '')} {rec.phase.value} · "
            f"{rec.backend} · {_duration(rec.started_at, rec.ended_at)}")


def _follow(state: CliState, run: str, console: Console, *, offset: int,
            limit: int | None) -> tuple[RunRecord, list[ActionRecord]]:
    session = state.session()
    try:
        rec = follow_run(session, run, console, offset=offset, limit=limit)
    except KeyboardInterrupt:
        console.print("[yellow]Stopped following; the run goes on.[/yellow]")
        rec = _get_run(state, run)
    return rec, session.runs.get_actions(run, offset=offset, limit=limit)


def follow_run(session: Session, run: str, console: Console, *, logs: bool = False, progress: bool = True,
               offset: int = 0, limit: int | None = 1000) -> RunRecord:
    """Keep the action tree (a page of it: ``limit`` actions from ``offset``, all for None) and,
    with ``logs``, what the tasks print on ``console`` until the run ends; return its final record.
    The run may be driven by another process or machine, so the run store is what there is to watch
    (a launched run's launcher keeps it current). KeyboardInterrupt is left to the caller: leaving
    never stops the run."""
    from rich.console import Group
    from rich.live import Live
    from rich.markup import escape as rich_escape

    seen = 0

    def new_lines() -> None:
        nonlocal seen
        if not logs:
            return
        for seq, line in session.runs.get_logs(run, after=seen):
            seen = seq
            console.print(f"[dim]\\[{line.action}][/dim] {rich_escape(line.line)}", highlight=False)

    rec = session.get_run(run)
    if rec is None:
        raise click.UsageError(session.no_such_run(run))
    live = Live(console=console, transient=True, refresh_per_second=4) if progress else None
    with live or contextlib.nullcontext():
        while True:
            new_lines()
            if rec.phase.is_terminal:
                break
            if live is not None:
                live.update(Group(_header(rec), build_tree(session.runs.get_actions(run, offset=offset, limit=limit))))
            time.sleep(0.3)
            rec = session.get_run(run) or rec
    new_lines()
    return rec


def build_tree(actions: list[ActionRecord]) -> Tree:
    """The action tree as a rich Tree (children under their parent, in creation order)."""
    from rich.tree import Tree

    nodes: dict[str, Tree] = {}
    root = Tree("[bold]actions[/bold]")
    for a in actions:
        label = (f"{_ICON.get(a.phase, '')} {a.action} [bold]{a.task}[/bold] {a.phase.value} "
                 f"{_duration(a.started_at, a.ended_at)}")
        if a.attempts > 1:
            label += f" · {a.attempts} attempts"
        if a.cache_hit:
            label += " · [magenta]cache hit[/magenta]"
        if a.recovered_from:
            label += f" · [magenta]recovered from {a.recovered_from}[/magenta]"
        if a.group:
            label += f" · group {a.group}"
        parent = nodes.get(a.parent or "", root)
        nodes[a.action] = parent.add(label)
    return root


@runs_cmd.command("logs")
@click.argument("run", shell_complete=complete_run_names)
@click.argument("action", required=False)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until the run ends.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, for scripts.")
@click.pass_obj
def run_logs(state: CliState, run: str, action: str | None, follow: bool, as_json: bool) -> None:
    """What a run's tasks printed or logged (of ACTION and its children, if given)."""
    as_json = as_json or state.as_json  # flyte --output-format json
    _get_run(state, run)
    session = state.session()
    seen = 0

    def show(after: int) -> int:
        for seq, line in session.runs.get_logs(run, action, after=after):
            click.echo(json.dumps(attrs.asdict(line)) if as_json else f"[{line.action}] {line.line}")
            after = seq
        return after

    while True:
        seen = show(seen)
        if not follow:
            break
        rec = session.get_run(run)
        if rec is None or rec.phase.is_terminal:
            seen = show(seen)  # lines written as the run ended
            break
        time.sleep(0.3)
    if seen == 0:
        click.echo(f"no logs for {f'action {action} of ' if action else ''}run {run}", err=True)


@runs_cmd.command("outputs")
@click.argument("run", shell_complete=complete_run_names)
@click.argument("action", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the output literals as JSON.")
@click.pass_obj
def run_outputs(state: CliState, run: str, action: str | None, as_json: bool) -> None:
    """The outputs of a run (or of one of its actions)."""
    as_json = as_json or state.as_json  # flyte --output-format json
    rec = _get_run(state, run)
    session = state.session()
    if action is None or action == "a0":
        outputs, phase = rec.outputs, rec.phase
    else:
        found = session.runs.get_action(run, action)
        if found is None:
            fail_usage(f"Run '{run}' has no action '{action}'; see `flyte runs show {run}`.")
        outputs, phase = found.outputs, found.phase
    if outputs is None:
        fail_usage(f"{'Run' if action is None else 'Action'} '{action or run}' has no outputs: it is {phase.value}.")
    values = {name: _payload(session, lit) for name, lit in outputs.items()}
    if as_json:
        click.echo(json.dumps(values, indent=2, default=str))
        return
    for name, value in values.items():
        click.echo(f"{name}: {json.dumps(value, default=str)}")


@runs_cmd.command("abort")
@click.argument("run", shell_complete=complete_run_names)
@click.pass_obj
def abort_run(state: CliState, run: str) -> None:
    """Abort a running run, wherever its controller runs: every running action is stopped."""
    _get_run(state, run)
    rec = state.session().abort(run)
    if rec.phase.is_terminal:
        click.echo(f"Run {run} already ended: {rec.phase.value}.")
        return
    deadline = time.time() + 30
    while time.time() < deadline:
        now = state.session().get_run(run)
        if now is not None and now.phase.is_terminal:
            click.echo(f"Run {run} {now.phase.value}.")
            return
        time.sleep(0.2)
    click.echo(f"Abort of run {run} requested; its controller has not confirmed yet.")


def _payload(session: Any, literal: dict[str, Any]) -> Any:
    """A literal's payload for display (offloaded payloads are read from the data store)."""
    if "uri" in literal and "d" not in literal:
        return json.loads(session.data.get_bytes(literal["uri"]))
    return literal.get("d")


def _since(text: str) -> float:
    """Seconds since the epoch for ``30m``/``2h``/``1d`` ago or an ISO 8601 date/time."""
    from datetime import datetime

    from flyte_core.types.temporal import parse_duration

    try:
        return time.time() - parse_duration(text).total_seconds()
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        fail_usage(f"--since {text!r} is neither a duration (30m, 2h, 1d) nor an ISO date/time.")
