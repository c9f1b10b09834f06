"""``flyte run [OPTIONS] FILE TASK [--input value ...]``."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from flyte_core.cli.common import CliState, err_console, fail_usage
from flyte_core.cli.params import option_for
from flyte_core.errors import BaseRuntimeError, FlyteUsageError
from flyte_core.loader import load_file, tasks_in
from flyte_core.observers import RunObserver
from flyte_core.session import RunOptions
from flyte_core.task import TaskTemplate


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key:
            fail_usage(f"{what} '{v}' must look like KEY=VALUE.")
        out[key] = val
    return out


class _TaskFile(click.Group):
    """The tasks of one file, each a command whose options are the task's inputs."""

    def __init__(self, path: str, run_opts: dict[str, Any]) -> None:
        super().__init__(name=path, help=f"Tasks in {path}.")
        self.path = path
        self.run_opts = run_opts
        self._tasks: dict[str, TaskTemplate[Any, Any]] | None = None

    def tasks(self, ctx: click.Context) -> dict[str, TaskTemplate[Any, Any]]:
        if self._tasks is None:
            state: CliState = ctx.find_object(CliState) or CliState()
            root = self.run_opts.get("root_dir") or state.session().root_dir
            try:
                self._tasks = tasks_in(load_file(self.path, root))
            except FlyteUsageError as e:
                fail_usage(str(e))
        return self._tasks

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.tasks(ctx))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        tasks = self.tasks(ctx)
        if name not in tasks:
            known = ", ".join(sorted(tasks)) or "none"
            fail_usage(f"File '{self.path}' has no task '{name}'; its tasks are: {known}.")
        task = tasks[name]
        state: CliState = ctx.find_object(CliState) or CliState()
        engine = state.session().engine
        params: list[click.Parameter] = [option_for(i, engine) for i in task.interface.inputs]

        def callback(**inputs: Any) -> None:
            _execute(click.get_current_context(), task, inputs, self.run_opts)

        doc = (task.docs or task.func.__doc__ or f"Run task {task.name}.").strip()
        return click.Command(name, params=params, callback=callback, help=doc)


class _RunGroup(click.Group):
    """Resolves FILE to a group of its tasks."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if not Path(name).exists():
            fail_usage(f"File '{name}' does not exist; pass the path of a Python file with tasks.")
        return _TaskFile(name, ctx.params)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return []


@click.group("run", cls=_RunGroup, subcommand_metavar="FILE TASK [INPUTS]...")
@click.option("--backend", "backend", default=None, help="Backend to run on (local, local-process, docker, ...).")
@click.option("--local", is_flag=True, help="Run on the local backend (Flyte 2's --local).")
@click.option("--name", default=None, help="Name of the run (default: a random name).")
@click.option("--root-dir", type=click.Path(file_okay=False), default=None,
              help="Root of your code (default: the current directory).")
@click.option("-e", "--env", "env", multiple=True, help="KEY=VALUE environment variable for every task.")
@click.option("--label", multiple=True, help="KEY=VALUE label recorded with the run.")
@click.option("--no-progress", is_flag=True, help="Do not show the live action tree.")
@click.option("--recover", default=None, metavar="RUN",
              help="Re-run a failed or interrupted RUN, reusing every action that succeeded in it.")
@click.option("--overwrite-cache", is_flag=True, help="Run cached tasks anyway and replace their cache entries.")
@click.option("--copy-style", default=None, hidden=True)
@click.option("--project", "-p", default=None, hidden=True)
@click.option("--domain", "-d", default=None, hidden=True)
def run_cmd(**_: Any) -> None:
    """Run a task of FILE: `flyte run examples/tasks.py pipeline --x 3`.

    Run options go before FILE; the task's inputs go after TASK (see `flyte run FILE TASK --help`).
    """


def _execute(ctx: click.Context, task: TaskTemplate[Any, Any], inputs: dict[str, Any], opts: dict[str, Any]) -> None:
    state: CliState = ctx.find_object(CliState) or CliState()
    backend = "local" if opts.get("local") else opts.get("backend")
    session = state.session()
    console = err_console()
    observers: tuple[RunObserver, ...] = ()
    if not opts.get("no_progress"):
        obs = session.plugins.hook.flyte_progress_observer(console=console)
        observers = (obs,) if obs is not None else ()
    options = RunOptions(
        backend=backend, name=opts.get("name"), env_vars=_pairs(opts.get("env") or (), "--env"),
        labels=_pairs(opts.get("label") or (), "--label"), observers=observers,
        recover=opts.get("recover"), overwrite_cache=bool(opts.get("overwrite_cache")),
    )
    try:
        # Stdout carries only the result (scripts capture it); what tasks print goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            run = session.run_with(options, task, (), inputs)
    except FlyteUsageError as e:
        _close(observers)
        fail_usage(str(e))
    except BaseRuntimeError as e:
        _close(observers)
        run_obj = getattr(e, "run", None)
        console.print(f"[red]✗[/red] Run {run_obj.name if run_obj else ''} failed.", highlight=False)
        click.echo(str(e), err=True)
        ctx.exit(1)
    except KeyboardInterrupt:
        _close(observers)
        console.print("[yellow]Interrupted: the run was aborted.[/yellow]")
        sys.stdout.flush()
        sys.stderr.flush()
        # The run is recorded as aborted; a task body stuck in a blocking call in a pool thread
        # must not keep this process alive, so leave without waiting for threads.
        os._exit(130)
    _close(observers)
    for note in run.notices:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    console.print(f"[green]✓[/green] Run {run.name} succeeded: flyte runs show {run.name}", highlight=False)
    outs = run.outputs()
    if len(outs) == 1:
        click.echo(outs[0])
    elif outs:
        click.echo(tuple(outs))


def _close(observers: tuple[RunObserver, ...]) -> None:
    for obs in observers:
        obs.close()
