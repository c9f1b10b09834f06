"""``flyte triggers``: list the triggers of a file's tasks, and fire them on a local scheduler."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

# The schedules (croniter), the scheduler (the run machinery) and rich are imported by the commands
# that use them, the task machinery (through flyte_core.extend) too: `flyte --help` loads this group.
if TYPE_CHECKING:
    from flyte_core.extend import CliState, TaskTemplate
    from flyte_triggers.scheduler import Firing


def _tasks(ctx: click.Context, path: str) -> list[TaskTemplate[Any, Any]]:
    from flyte_core.extend import load_file, tasks_in  # the task machinery, only for a command that runs

    state: CliState = ctx.find_root().obj
    return list(tasks_in(load_file(path, state.session().root_dir)).values())


@click.group("triggers")
def triggers_cmd() -> None:
    """Triggers declared with @env.task(triggers=...): list them, fire them on a local scheduler, fire one
    now, or deploy them to a backend that keeps schedules."""


@triggers_cmd.command("list")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def list_cmd(ctx: click.Context, file: str) -> None:
    """Every trigger of FILE's tasks, its schedule and when it would fire next."""
    from rich.console import Console
    from rich.table import Table

    from flyte_core.extend import task_triggers
    from flyte_triggers.schedule import check, next_fire

    now = datetime.now(UTC)
    table = Table("trigger", "task", "automation", "active", "next firing (UTC)")
    for task in _tasks(ctx, file):
        for trig in task_triggers(task):
            nxt = "-"
            with contextlib.suppress(Exception):
                check(trig)
                nxt = next_fire(trig, now, now).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            table.add_row(trig.name, task.name, str(trig.automation or "on demand"),
                          "yes" if trig.auto_activate else "no", nxt)
    Console().print(table)


@triggers_cmd.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--backend", default=None, help="Backend the triggered runs use (default: the configured one).")
@click.option("--trigger", "names", multiple=True,
              help="Fire only this trigger (repeatable); a named trigger fires even with auto_activate=False.")
@click.option("--max-runs", type=int, default=None, help="Stop after this many firings (and their runs).")
@click.pass_context
def run_cmd(ctx: click.Context, file: str, backend: str | None, names: tuple[str, ...],
            max_runs: int | None) -> None:
    """Fire the Cron and FixedRate triggers of FILE's tasks on schedule until Ctrl-C.

    Each firing starts a run, recorded in the run store with the labels flyte.trigger (its name) and
    flyte.trigger.time (its scheduled time); flyte.TriggerTime inputs get the scheduled time. Ctrl-C
    stops firing and aborts the runs still going.
    """
    from rich.console import Console

    from flyte_triggers.scheduler import TriggerScheduler

    state: CliState = ctx.find_root().obj
    console = Console(stderr=True, highlight=False)

    def said(f: Firing, what: str) -> None:
        when = f.scheduled.astimezone(UTC).strftime("%H:%M:%S")
        detail = f"run {f.run}" if f.run else f"not started: {f.error}"
        console.print(f"[{when}] trigger [bold]{f.trigger}[/bold] -> {f.task}: {detail} {what}")

    scheduler = TriggerScheduler(state.session(), _tasks(ctx, file), backend=backend, names=names, on_fire=said)
    for task, trig in scheduler.pairs:
        console.print(f"scheduling [bold]{trig.name}[/bold] ({trig.automation}) for {task.name}")
    console.print("Press Ctrl+C to stop.")
    try:
        scheduler.run(max_firings=max_runs)
    except KeyboardInterrupt:
        console.print("stopped (runs still going were aborted).")
    console.print(f"{len(scheduler.firings)} firing(s).")


@triggers_cmd.command("fire")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("trigger")
@click.option("--at", "at", default=None, help="The scheduled time flyte.TriggerTime inputs get (ISO 8601; "
                                                "default now, UTC when no offset is given).")
@click.option("--on-the-minute", is_flag=True, help="Take the current minute (seconds dropped) as the scheduled "
                                                    "time, as a cron job that fires it does.")
@click.option("--backend", default=None, help="Backend the run uses (default: the configured one).")
@click.pass_context
def fire_cmd(ctx: click.Context, file: str, trigger: str, at: str | None, on_the_minute: bool,
             backend: str | None) -> None:
    """Fire TRIGGER of FILE's tasks once, now, and wait for its run(s): how an on-demand trigger (one
    without automation) runs, and a way to try a scheduled one."""
    from flyte_triggers.scheduler import fire_once

    state: CliState = ctx.find_root().obj
    try:
        when = datetime.fromisoformat(at) if at else None
    except ValueError:
        raise click.BadParameter(f"'{at}' is not an ISO 8601 time (e.g. 2026-01-31T09:00)", param_hint="--at") from None
    if on_the_minute and when is None:
        when = datetime.now(UTC).replace(second=0, microsecond=0)
    session = state.session()
    failed = False
    for f in fire_once(session, _tasks(ctx, file), trigger, when=when, backend=backend):
        rec = session.get_run(f.run) if f.run else None
        phase = str(rec.phase) if rec is not None else "not started"
        failed = failed or rec is None or str(rec.phase) != "succeeded"
        why = f" ({f.error})" if f.error else ""
        click.echo(f"trigger {f.trigger} -> {f.task}: run {f.run or '-'} {phase}{why}")
    if failed:
        ctx.exit(1)


@triggers_cmd.command("deploy")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--backend", required=True, help="Backend that keeps the schedule (kubernetes: CronJobs).")
@click.option("--trigger", "names", multiple=True, help="Deploy only this trigger (repeatable).")
@click.pass_context
def deploy_cmd(ctx: click.Context, file: str, backend: str, names: tuple[str, ...]) -> None:
    """Hand FILE's scheduled triggers to BACKEND to fire (the command `flyte BACKEND triggers deploy` a
    backend plugin provides, e.g. kubernetes CronJobs)."""
    command: click.Command | None = ctx.find_root().command
    for part in (backend, "triggers", "deploy"):
        command = command.get_command(ctx, part) if isinstance(command, click.Group) else None
    if command is None:
        raise click.UsageError(f"The '{backend}' backend cannot keep trigger schedules (no `flyte {backend} triggers "
                               "deploy`); fire them from here with `flyte triggers run FILE`.")
    ctx.invoke(command, file=file, names=names)
