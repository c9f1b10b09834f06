"""``flyte run [OPTIONS] FILE TASK [--input value ...]``."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

from flyte_core.cli.common import CliState, complete_run_names, err_console, fail_usage
from flyte_core.errors.core import BaseRuntimeError, FlyteUsageError

# What running needs (the session machinery, rich) is imported when a task is run, not for `--help`.
if TYPE_CHECKING:
    from rich.console import Console

    from flyte_core.run.observers import RunObserver
    from flyte_core.task.template import TaskTemplate


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
        #: The task's inputs as typed (a launched run parses them again where it is driven).
        self.raw_inputs: list[str] = []

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                             list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        self.raw_inputs = list(rest)
        return name, cmd, rest

    def tasks(self, ctx: click.Context) -> dict[str, TaskTemplate[Any, Any]]:
        if self._tasks is None:
            state: CliState = ctx.find_object(CliState) or CliState()
            root = self.run_opts.get("root_dir") or state.session().root_dir
            from flyte_core.run.imagemap import apply_image_overrides, environments_in, parse_image_options
            from flyte_core.task.loader import load_file, tasks_in

            try:
                module = load_file(self.path, root)
                self._tasks = tasks_in(module)
                images = parse_image_options(self.run_opts.get("images") or ())
                for env, uri in apply_image_overrides(environments_in(module), images).items():
                    err_console().print(f"Environment '{env}' runs image {uri} (--image).", highlight=False)
            except FlyteUsageError as e:
                if ctx.resilient_parsing:  # shell completion: say nothing
                    return {}
                fail_usage(str(e))
        return self._tasks

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.tasks(ctx))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        tasks = self.tasks(ctx)
        if name not in tasks:
            if ctx.resilient_parsing:
                return None
            known = ", ".join(sorted(tasks)) or "none"
            fail_usage(f"File '{self.path}' has no task '{name}'; its tasks are: {known}.")
        task = tasks[name]
        state: CliState = ctx.find_object(CliState) or CliState()
        engine = state.session().engine
        if task.interface.problem is not None:
            fail_usage(task.interface.problem)
        from flyte_core.cli.params import option_for

        params: list[click.Parameter] = [option_for(i, engine) for i in task.interface.inputs]

        def callback(**inputs: Any) -> None:
            ctx = click.get_current_context()
            if _launcher_for(ctx, self.run_opts):
                _launch(ctx, task, self.path, name, self.raw_inputs, self.run_opts)
            else:
                _execute(ctx, task, inputs, self.run_opts)

        doc = (task.docs or task.func.__doc__ or f"Run task {task.name}.").strip()
        return click.Command(name, params=params, callback=callback, help=doc)


class _RunGroup(click.Group):
    """Resolves FILE to a group of its tasks."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if not Path(name).exists():
            if ctx.resilient_parsing:  # shell completion: say nothing
                return None
            fail_usage(f"File '{name}' does not exist; pass the path of a Python file with tasks.")
        return _TaskFile(name, ctx.params)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return []

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """FILE completes as a path (the shell lists files); options complete as usual."""
        if incomplete.startswith("-"):
            return super().shell_complete(ctx, incomplete)
        return [CompletionItem(incomplete, type="file")]


@click.group("run", cls=_RunGroup, subcommand_metavar="FILE TASK [INPUTS]...")
@click.option("--backend", "backend", default=None, help="Backend to run on (local, local-process, docker, ...).")
@click.option("--local", is_flag=True, help="Run on the local backend (Flyte 2's --local).")
@click.option("--name", default=None, help="Name of the run (default: a random name).")
@click.option("--root-dir", type=click.Path(file_okay=False), default=None,
              help="Root of your code (default: the current directory).")
@click.option("-e", "--env", "env", multiple=True, help="KEY=VALUE environment variable for every task.")
@click.option("--label", multiple=True, help="KEY=VALUE label recorded with the run.")
@click.option("--no-progress", is_flag=True, help="Do not show the live action tree.")
@click.option("--detach", is_flag=True, help="Start the run and return (backends whose runs outlive this process, "
              "such as kubernetes); follow it with `flyte runs show RUN --follow`.")
@click.option("--local-controller", is_flag=True, help="Drive the run from this process even on a backend that "
              "would drive it from elsewhere (kubernetes: no driver pod); Ctrl-C then aborts it.")
@click.option("--recover", default=None, metavar="RUN", shell_complete=complete_run_names,
              help="Re-run a failed or interrupted RUN, reusing every action that succeeded in it.")
@click.option("--overwrite-cache", is_flag=True, help="Run cached tasks anyway and replace their cache entries.")
@click.option("--follow", is_flag=True, help="Wait for the run, showing its progress and task logs (what runs "
              "driven here always do; for a launched run, the opposite of --detach).")
@click.option("--image", "images", multiple=True, metavar="[NAME=]URI",
              help="Run Image.from_ref_name(NAME) images as URI; a bare URI replaces the default image (of "
              "environments that name none). Repeatable.")
@click.option("--raw-data-path", default=None, metavar="URL",
              help="Where the run's offloaded data goes (a folder or fsspec URL; default: under the data store).")
@click.option("--max-action-concurrency", type=int, default=None, metavar="N",
              help="At most N child actions of one parent run at once (0: no limit).")
@click.option("--service-account", default=None, metavar="NAME",
              help="The identity task pods run as (kubernetes); other backends report it as not acted on.")
@click.option("--copy-style", default=None, hidden=True)
@click.option("--project", "-p", default=None, hidden=True)
@click.option("--domain", "-d", default=None, hidden=True)
def run_cmd(**_: Any) -> None:
    """Run a task of FILE: `flyte run examples/tasks.py pipeline --x 3`.

    Run options go before FILE; the task's inputs go after TASK (see `flyte run FILE TASK --help`).
    """


def _launcher_for(ctx: click.Context, opts: dict[str, Any]) -> bool:
    """Whether this run is launched (driven away from this process) rather than driven here."""
    if opts.get("detach") and opts.get("follow"):
        fail_usage("--detach and --follow contradict each other; pass one of them.")
    state: CliState = ctx.find_object(CliState) or CliState()
    session = state.session()
    backend = "local" if opts.get("local") else opts.get("backend") or session.backend_name
    launched = not opts.get("local_controller") and backend in session.launchers
    if opts.get("detach") and not launched:
        why = "--local-controller drives it here" if opts.get("local_controller") else (
            f"backend '{backend}' drives runs in this process")
        fail_usage(f"--detach needs a run driven away from this process, but {why}; backends that can: "
                   f"{', '.join(session.launchers.names()) or 'none'}.")
    return launched


def _launch(ctx: click.Context, task: TaskTemplate[Any, Any], path: str, task_name: str, inputs: list[str],
            opts: dict[str, Any]) -> None:
    """Launch the run with the backend's launcher, then follow it (unless --detach)."""
    from flyte_core.cli.runs_cmd import follow_run
    from flyte_core.run.handle import Run
    from flyte_core.run.launcher import LaunchRequest

    state: CliState = ctx.find_object(CliState) or CliState()
    session = state.session()
    console = err_console()
    _not_launched(opts, console)
    request = LaunchRequest(
        file=path, task=task_name, inputs=inputs, name=opts.get("name"),
        labels=_pairs(opts.get("label") or (), "--label"), env_vars=_pairs(opts.get("env") or (), "--env"),
        overwrite_cache=bool(opts.get("overwrite_cache")), recover=opts.get("recover"),
    )
    try:
        rec = session.launch(opts.get("backend"), request)
    except FlyteUsageError as e:
        fail_usage(str(e))
    name = rec.name
    console.print(f"Run [bold]{name}[/bold] launched on {rec.backend} ({rec.host}).", highlight=False)
    if opts.get("detach"):
        console.print(f"Follow it with `flyte runs show {name} --follow`; stop it with `flyte runs abort {name}`.",
                      highlight=False)
        click.echo(name)
        return
    try:
        rec = follow_run(session, name, console, logs=True, progress=not opts.get("no_progress"))
    except KeyboardInterrupt:
        console.print(f"[yellow]Detached; run {name} goes on.[/yellow] Re-attach with `flyte runs show {name} "
                      f"--follow`, stop it with `flyte runs abort {name}`.", highlight=False)
        sys.exit(130)
    run = Run(session, name, task, [])
    try:
        outs = run.outputs()
    except (BaseRuntimeError, RuntimeError) as e:
        console.print(f"[red]✗[/red] Run {name} {rec.phase.value}.", highlight=False)
        click.echo(str(e), err=True)
        ctx.exit(1)
    console.print(f"[green]✓[/green] Run {name} succeeded: flyte runs show {name}", highlight=False)
    _print_outputs(ctx, outs)


def _execute(ctx: click.Context, task: TaskTemplate[Any, Any], inputs: dict[str, Any], opts: dict[str, Any]) -> None:
    state: CliState = ctx.find_object(CliState) or CliState()
    backend = "local" if opts.get("local") else opts.get("backend")
    session = state.session()
    console = err_console()
    from flyte_core.run.session import RunOptions

    observers: tuple[RunObserver, ...] = ()
    if not opts.get("no_progress"):
        obs = session.plugins.hook.flyte_progress_observer(console=console)
        observers = (obs,) if obs is not None else ()
    options = RunOptions(
        backend=backend, name=opts.get("name"), env_vars=_pairs(opts.get("env") or (), "--env"),
        labels=_pairs(opts.get("label") or (), "--label"), observers=observers,
        recover=opts.get("recover"), overwrite_cache=bool(opts.get("overwrite_cache")),
        raw_data_path=opts.get("raw_data_path"), max_action_concurrency=_concurrency(opts),
        backend_options=_service_account(session, backend, opts, console),
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
        if not _summarised(observers, console):
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
    if not _summarised(observers, console):
        console.print(f"[green]✓[/green] Run {run.name} succeeded: flyte runs show {run.name}", highlight=False)
    _print_outputs(ctx, run.outputs())


def _concurrency(opts: dict[str, Any]) -> int | None:
    n: int | None = opts.get("max_action_concurrency")
    if n is not None and (n == 1 or n < 0):
        fail_usage(f"--max-action-concurrency must be 0 (no limit) or at least 2, got {n}.")
    return n


def _service_account(session: Any, backend: str | None, opts: dict[str, Any], console: Any) -> dict[str, Any]:
    """``--service-account`` as the backend option of backends that act on it; a note for the others."""
    account = opts.get("service_account")
    if not account:
        return {}
    name = backend or session.backend_name
    if "service_account" in getattr(session.make_backend(name), "honours", ()):
        return {"service_account": account}
    console.print(f"[yellow]note:[/yellow] --service-account is not acted on by the '{name}' backend "
                  "(tasks run as this user).", highlight=False)
    return {}


def _not_launched(opts: dict[str, Any], console: Any) -> None:
    """Report the run options a launched run does not receive (it loads the file afresh where it is driven)."""
    unused = [flag for flag, key in (("--image", "images"), ("--raw-data-path", "raw_data_path"),
                                     ("--max-action-concurrency", "max_action_concurrency"),
                                     ("--service-account", "service_account")) if opts.get(key)]
    if unused:
        console.print(f"[yellow]note:[/yellow] {', '.join(unused)} not acted on: a launched run takes its settings "
                      "from the configuration; add --local-controller to drive it from here with them.",
                      highlight=False)


def _print_outputs(ctx: click.Context, outs: Any) -> None:
    """The run's result on stdout: its value(s), or JSON with ``--output-format json``."""
    state: CliState = ctx.find_object(CliState) or CliState()
    if state.as_json:
        import json

        click.echo(json.dumps(list(outs) if len(outs) != 1 else outs[0], default=str,
                              indent=None if state.output_format == "json-raw" else 2))
    elif len(outs) == 1:
        click.echo(outs[0])
    elif outs:
        click.echo(tuple(outs))


def _summarised(observers: tuple[RunObserver, ...], console: Console) -> bool:
    """Whether the progress display already ended with the run's one-line summary (it does when
    its output is not a terminal), so the run's outcome is not printed twice."""
    return bool(observers) and not console.is_terminal


def _close(observers: tuple[RunObserver, ...]) -> None:
    for obs in observers:
        obs.close()
