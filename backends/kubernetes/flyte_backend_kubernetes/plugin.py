"""Registers the ``kubernetes`` backend, its launcher (durable runs driven by a pod in the
cluster) and the ``flyte kubernetes`` commands, as any third party would. Nothing heavy is
imported until a command or a run needs it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from flyte_core.extend import hookimpl

if TYPE_CHECKING:  # the run machinery: loaded by a run, not by loading the plugin (`flyte --help`)
    from flyte_core.extend import Backend, BackendRegistry, LauncherRegistry


def _kubernetes(options: Mapping[str, Any]) -> Backend:
    from flyte_backend_kubernetes.backend import KubernetesBackend

    return KubernetesBackend(options)


@hookimpl
def flyte_register_backends(registry: BackendRegistry) -> None:
    """``kubernetes``: every action in its own pod."""
    registry.add("kubernetes", _kubernetes)


class _LazyLauncher:
    """The kubernetes launcher, imported (with the kubernetes client) on first use."""

    def __init__(self) -> None:
        self._impl: Any = None

    def _get(self) -> Any:
        if self._impl is None:
            from flyte_backend_kubernetes.durable import KubernetesLauncher

            self._impl = KubernetesLauncher()
        return self._impl

    def launch(self, session: Any, request: Any) -> Any:
        """See ``KubernetesLauncher.launch``."""
        return self._get().launch(session, request)

    def sync(self, session: Any, run: Any) -> None:
        """See ``KubernetesLauncher.sync``."""
        self._get().sync(session, run)

    def abort(self, session: Any, run: Any) -> None:
        """See ``KubernetesLauncher.abort``."""
        self._get().abort(session, run)


@hookimpl
def flyte_run_interrupted(run: Any, options: Mapping[str, Any]) -> str | None:
    """Delete the pods a kubernetes run whose (local) controller died left behind."""
    if run.backend != "kubernetes":
        return None
    from kubernetes import client

    from flyte_backend_kubernetes import pods
    from flyte_backend_kubernetes.client import connect

    try:
        api_client, context_ns = connect(options.get("context"), options.get("kubeconfig"))
    except Exception:
        return None  # no cluster reachable from here: `flyte kubernetes prune` where it is
    try:
        namespace = str(options.get("namespace") or context_ns)
        removed = pods.prune_orphans(client.CoreV1Api(api_client), namespace, run.name)
    finally:
        api_client.close()
    return f"deleted {removed} pod(s) of run {run.name} (kubernetes, namespace {namespace})" if removed else None


@hookimpl
def flyte_register_launchers(registry: LauncherRegistry) -> None:
    """``kubernetes``: durable runs, driven by a pod in the cluster."""
    registry.add("kubernetes", _LazyLauncher())


@click.group("kubernetes")
def kubernetes_cmd() -> None:
    """The Kubernetes backend's setup and housekeeping."""


_ns = click.option("--namespace", "-n", default=None, help="Namespace (default: flyte).")
_sa = click.option("--service-account", default=None, help="ServiceAccount (default: flyte-runner).")


@kubernetes_cmd.command("rbac")
@_ns
@_sa
def rbac_cmd(namespace: str | None, service_account: str | None) -> None:
    """Print the Namespace, ServiceAccount, Role and RoleBinding a run needs (for kubectl apply -f -)."""
    from flyte_backend_kubernetes import rbac

    click.echo(rbac.render(rbac.manifests(namespace or rbac.DEFAULT_NAMESPACE,
                                          service_account or rbac.DEFAULT_ACCOUNT)), nl=False)


@kubernetes_cmd.command("setup")
@_ns
@_sa
@click.option("--context", default=None, help="kubeconfig context (default: the current one).")
def setup_cmd(namespace: str | None, service_account: str | None, context: str | None) -> None:
    """Apply the manifests `flyte kubernetes rbac` prints to the cluster."""
    from flyte_backend_kubernetes import rbac
    from flyte_backend_kubernetes.client import connect

    api_client, _ = connect(context)
    try:
        for line in rbac.apply(api_client, rbac.manifests(namespace or rbac.DEFAULT_NAMESPACE,
                                                          service_account or rbac.DEFAULT_ACCOUNT)):
            click.echo(line)
    finally:
        api_client.close()


@kubernetes_cmd.command("prune")
@click.option("--namespace", "-n", default=None, help="Namespace (default: the context's).")
@click.option("--context", default=None, help="kubeconfig context (default: the current one).")
@click.option("--run", default=None, help="Delete every pod of this run (default: pods of dead controllers "
                                          "and pods whose debugging TTL ran out).")
def prune_cmd(namespace: str | None, context: str | None, run: str | None) -> None:
    """Delete task pods left behind by runs whose controller is gone, or kept past their TTL."""
    from kubernetes import client

    from flyte_backend_kubernetes.client import connect
    from flyte_backend_kubernetes.pods import prune

    api_client, context_ns = connect(context)
    try:
        runs = prune(client.CoreV1Api(api_client), namespace or context_ns, run)
    finally:
        api_client.close()
    click.echo(f"Deleted pods of {len(runs)} run(s){': ' + ', '.join(runs) if runs else ''}.")


@kubernetes_cmd.group("triggers")
def triggers_group() -> None:
    """Triggers as CronJobs: each firing a run on this backend (needs the flyte-triggers plugin)."""


@triggers_group.command("deploy")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--trigger", "names", multiple=True, help="Deploy only this trigger (repeatable); default: every "
                                                        "scheduled trigger with auto_activate.")
@click.pass_context
def triggers_deploy_cmd(ctx: click.Context, file: str, names: tuple[str, ...]) -> None:
    """Create or replace a CronJob per scheduled trigger of FILE's tasks (images and code as they are now)."""
    from flyte_backend_kubernetes.cronjobs import deploy

    for trigger, name, schedule in deploy(ctx.find_root().obj.session(), file, names):
        click.echo(f"trigger {trigger}: CronJob {name} ({schedule})")


@triggers_group.command("list")
@click.pass_context
def triggers_list_cmd(ctx: click.Context) -> None:
    """The CronJobs of deployed triggers."""
    from flyte_backend_kubernetes.cronjobs import deployed

    for c in deployed(ctx.find_root().obj.session()):
        click.echo(f"{c['trigger']}\t{c['name']}\t{c['schedule']}\tlast: {c['last']}")


@triggers_group.command("delete")
@click.argument("trigger")
@click.pass_context
def triggers_delete_cmd(ctx: click.Context, trigger: str) -> None:
    """Delete the CronJob of TRIGGER, its Jobs and their pods."""
    from flyte_backend_kubernetes.cronjobs import delete

    if not delete(ctx.find_root().obj.session(), trigger):
        raise click.ClickException(f"No CronJob of trigger '{trigger}'; see flyte kubernetes triggers list.")
    click.echo(f"Deleted the CronJob of trigger '{trigger}'.")


@hookimpl
def flyte_add_cli_commands(cli: click.Group) -> None:
    """``flyte kubernetes rbac | setup | prune | secrets``."""
    from flyte_backend_kubernetes.secrets_cli import secrets_group

    kubernetes_cmd.add_command(secrets_group)
    cli.add_command(kubernetes_cmd)
