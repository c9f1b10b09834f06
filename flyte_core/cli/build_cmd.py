"""``flyte build FILE [ENV...]`` (build environment images ahead of a run) and ``flyte create config``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from flyte_core.cli.common import CliState, err_console, fail_usage
from flyte_core.errors.core import ImageBuildError


@click.command("build")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("envs", nargs=-1)
@click.option("--all", "all_envs", is_flag=True, help="Build every environment of FILE (the default when no ENV "
              "is named).")
@click.option("--root-dir", type=click.Path(file_okay=False), default=None,
              help="Root of your code (default: the current directory).")
@click.option("--builder", default=None, help="Image builder to use (default: the image_builder option of the "
              "configured container backend, else docker).")
@click.option("--dry-run", is_flag=True, help="Check the environments and their image specs; build nothing.")
@click.option("--copy-style", default=None, hidden=True)
@click.pass_obj
def build_cmd(state: CliState, file: str, envs: tuple[str, ...], all_envs: bool, root_dir: str | None,
              builder: str | None, dry_run: bool, copy_style: str | None) -> None:
    """Build the images of FILE's environments (all of them, or those named ENVS) with the session's
    image builder, so the next run on docker or kubernetes starts without building.

    Prints each environment's image reference; `--output-format json` prints them as one JSON object.
    """
    from flyte_core.api.build import build_image
    from flyte_core.run.imagemap import environments_in
    from flyte_core.task.loader import load_file

    session = state.session()
    console = err_console()
    module = load_file(file, root_dir or session.root_dir)
    found = {e.name: e for e in environments_in(module)}
    if not found:
        fail_usage(f"File '{file}' defines no TaskEnvironment; nothing to build.")
    unknown = [n for n in envs if n not in found]
    if unknown:
        fail_usage(f"File '{file}' has no environment {', '.join(repr(n) for n in unknown)}; "
                   f"its environments are: {', '.join(sorted(found))}.")
    chosen = [found[n] for n in envs] if envs and not all_envs else list(found.values())
    built: dict[str, str | None] = {}
    for env in chosen:
        spec = env.image_spec
        if spec is None:
            continue
        console.print(f"Building the image of environment '{env.name}'…", highlight=False)
        try:
            result = build_image(spec, session=session, dry_run=dry_run, builder=builder,
                                 log=lambda line: console.print(line, markup=False, highlight=False, style="dim"))
        except ImageBuildError as e:
            fail_usage(str(e))
        built[env.name] = result.uri
    if state.as_json:
        click.echo(json.dumps(built, indent=None if state.output_format == "json-raw" else 2))
        return
    for name, uri in built.items():
        click.echo(f"{name}\t{uri if uri is not None else '(dry run: not built)'}")


@click.group("create")
def create_cmd() -> None:
    """Create flyte-core files (configuration)."""


@create_cmd.command("config")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=".flyte/config.yaml", show_default=True,
              help="Where to write the file (./.flyte/config.yaml is found automatically from this folder).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--backend", default="local", show_default=True,
              help="Backend runs use (local, local-process, docker, kubernetes, ...).")
@click.option("--storage", "data", default=None, metavar="URL",
              help="Data store: a folder or fsspec URL (default: $FLYTE_HOME/data).")
@click.option("--runs", default=None, metavar="PATH", help="The SQLite run store (default: $FLYTE_HOME/runs.db).")
@click.option("--image-builder", "--builder", "builder", default=None,
              help="Image builder of the container backend (default: docker).")
@click.option("--registry", default=None, help="Registry images are pushed to (kubernetes backend).")
@click.option("--endpoint", default=None, hidden=True)
@click.option("--insecure", is_flag=True, hidden=True)
@click.option("--org", default=None, hidden=True)
@click.option("--project", "-p", default=None, hidden=True)
@click.option("--domain", "-d", default=None, hidden=True)
@click.option("--auth-type", default=None, hidden=True)
@click.option("--devbox", is_flag=True, hidden=True)
def create_config(output: str, force: bool, backend: str, data: str | None, runs: str | None, builder: str | None,
                  registry: str | None, **remote: Any) -> None:
    """Write a configuration file choosing the backend, the data store and the run store.

    Flyte 2's control-plane options (--endpoint, --org, --project, ...) are accepted and not written:
    flyte-core has no control plane to point at.
    """
    import yaml

    from flyte_core.config.files import load_config

    path = Path(output)
    if path.exists() and not force:
        fail_usage(f"'{path}' already exists; pass --force to overwrite it.")
    doc: dict[str, Any] = {"backend": backend}
    storage = {k: v for k, v in (("data", data), ("runs", runs)) if v}
    if storage:
        doc["storage"] = storage
    options = {k: v for k, v in (("image_builder", builder), ("registry", registry)) if v}
    if options:
        doc["backends"] = {backend if backend not in ("local", "local-process") else "docker": options}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    load_config(path)  # what was written must read back
    ignored = [f"--{k.replace('_', '-')}" for k, v in remote.items() if v]
    if ignored:
        err_console().print(f"[yellow]note:[/yellow] {', '.join(ignored)} not written: flyte-core has no control "
                            "plane.", highlight=False)
    click.echo(str(path))
