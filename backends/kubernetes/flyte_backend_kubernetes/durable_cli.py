"""``flyte kubernetes run`` and ``flyte kubernetes follow``: durable runs from the command line
(see :mod:`flyte_backend_kubernetes.durable`). Exit codes as ``flyte run``: 0 success, 1 the run
failed, 2 a usage error, 130 detached with Ctrl-C (the run goes on)."""

from __future__ import annotations

import sys
from typing import Any

import click

from flyte_core.errors import FlyteUsageError


def _state(ctx: click.Context) -> Any:
    from flyte_core.cli.common import CliState

    return ctx.find_object(CliState) or CliState()


def _follow_and_report(ctx: click.Context, run: str) -> None:
    from flyte_backend_kubernetes.durable import follow
    from flyte_backend_kubernetes.options import KubeOptions
    from flyte_core.cli.common import fail_usage

    session = _state(ctx).session()
    opts = KubeOptions.parse(session.config.backend_options("kubernetes"))
    try:
        rec = follow(session, run, namespace=opts.namespace, context=opts.context, kubeconfig=opts.kubeconfig,
                     show=lambda line: click.echo(line, err=True))
    except FlyteUsageError as e:
        fail_usage(str(e))
    except KeyboardInterrupt:
        click.echo(f"Detached; run {run} goes on. Re-attach with `flyte kubernetes follow {run}`, stop it with "
                   f"`flyte runs abort {run}`.", err=True)
        sys.exit(130)
    if rec.phase.value != "succeeded":
        click.echo(f"Run {run} {rec.phase.value}: {rec.error.message if rec.error else ''}", err=True)
        ctx.exit(1)
    click.echo(f"Run {run} succeeded: flyte runs show {run}", err=True)
    values = [session.decode_untyped(v)[0] for v in (rec.outputs or {}).values()]
    if len(values) == 1:
        click.echo(values[0])
    elif values:
        click.echo(tuple(values))


def _progress(line: str) -> None:
    # Image builds say a lot; one line per build, push or pull is enough here.
    if line.startswith(("Building", "Pushing", "Pulling")):
        click.echo(line, err=True)


@click.command("run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--detach", is_flag=True, help="Start the run and return; follow it later with `flyte kubernetes "
                                             "follow RUN`.")
@click.option("--name", default=None, help="Name of the run (default: a random name).")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("task")
@click.argument("inputs", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def run_cmd(ctx: click.Context, detach: bool, name: str | None, file: str, task: str, inputs: tuple[str, ...]) -> None:
    """Run TASK of FILE durably: a driver pod in the cluster drives it, so closing this terminal
    does not stop it. Inputs as for `flyte run` (--x 3)."""
    from flyte_backend_kubernetes.durable import launch
    from flyte_core.cli.common import fail_usage

    session = _state(ctx).session()
    try:
        run, pod, namespace = launch(session.config, file, task, list(inputs), name=name, log=_progress)
    except FlyteUsageError as e:
        fail_usage(str(e))
    click.echo(f"Run {run} started by driver pod {pod} (namespace {namespace}).", err=True)
    if detach:
        click.echo(f"Follow it with `flyte kubernetes follow {run}`; stop it with `flyte runs abort {run}`.",
                   err=True)
        click.echo(run)
        return
    _follow_and_report(ctx, run)


@click.command("follow")
@click.argument("run")
@click.pass_context
def follow_cmd(ctx: click.Context, run: str) -> None:
    """Follow a durable run's logs until it ends, then print its result (Ctrl-C detaches)."""
    _follow_and_report(ctx, run)
