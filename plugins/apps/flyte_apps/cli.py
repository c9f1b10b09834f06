"""``flyte serve [--local] FILE [APP]``: serve an app of FILE on this machine until Ctrl-C."""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING, Any

import click

from flyte_core.extend import FlyteUsageError

if TYPE_CHECKING:  # imported by the command (the task loader too): `flyte --help` loads this module
    from flyte_apps.environment import AppEnvironment
    from flyte_core.extend import CliState


def _pick(apps: dict[str, AppEnvironment], which: str | None, file: str) -> AppEnvironment:
    if which is None:
        if len(apps) == 1:
            return next(iter(apps.values()))
        raise FlyteUsageError(f"File '{file}' defines {len(apps)} apps ({', '.join(sorted(apps)) or 'none'}); "
                              "name the one to serve: flyte serve FILE APP.")
    found = apps.get(which) or next((a for a in apps.values() if a.name == which), None)
    if found is None:
        raise FlyteUsageError(f"File '{file}' has no app '{which}' (apps: {', '.join(sorted(apps)) or 'none'}); "
                              "give the variable name or the app's name.")
    return found


def _stop_on_sigterm(*_: Any) -> None:
    raise KeyboardInterrupt


@click.command("serve")
@click.option("--local", is_flag=True, help="Serve on this machine (the only way flyte-core serves; accepted as in "
                                            "Flyte 2).")
@click.option("--env-var", "-e", "env_vars", multiple=True, help="KEY=VALUE set in the app's environment (repeatable).")
@click.option("--activate-timeout", type=float, default=60.0, show_default=True,
              help="Seconds to wait for the app to answer on its port.")
@click.option("--health-check-path", default="/health", show_default=True,
              help="Path probed to tell that the app answers (any status below 500 counts).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("app", required=False)
@click.pass_context
def serve_cmd(ctx: click.Context, local: bool, env_vars: tuple[str, ...], activate_timeout: float,
              health_check_path: str, file: str, app: str | None) -> None:
    """Serve APP (a flyte.app.AppEnvironment of FILE, by variable or app name) as a local process until
    Ctrl-C, which stops it and everything it started."""
    from flyte_apps.environment import AppEnvironment
    from flyte_apps.serve import LocalApp, with_servecontext
    from flyte_core.extend import load_file

    pairs: dict[str, str] = {}
    for item in env_vars:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{item}' is not KEY=VALUE", param_hint="--env-var")
        pairs[key] = value
    state: CliState = ctx.find_root().obj
    module = load_file(file, state.session().root_dir)
    app_env = _pick({k: v for k, v in vars(module).items() if isinstance(v, AppEnvironment)}, app, file)
    handle = with_servecontext("local", env_vars=pairs, activate_timeout=activate_timeout,
                               health_check_path=health_check_path).serve(app_env)
    assert isinstance(handle, LocalApp)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        click.echo(f"Starting app '{handle.name}' (process {handle.pid}) ...", err=True)
        handle.activate(wait=True)
        click.echo(f"App '{handle.name}' is served at {handle.endpoint}. Press Ctrl+C to stop it.", err=True)
        while not handle.is_deactivated():
            time.sleep(0.2)
        raise FlyteUsageError(f"App '{handle.name}' stopped by itself.")
    except KeyboardInterrupt:
        click.echo(f"\nStopping app '{handle.name}' ...", err=True)
    finally:
        handle.deactivate(wait=True)
        signal.signal(signal.SIGTERM, previous)
    click.echo(f"App '{handle.name}' stopped.", err=True)
