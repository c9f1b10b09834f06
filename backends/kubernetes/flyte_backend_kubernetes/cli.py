"""``flyte kubernetes ...``: setup, housekeeping, triggers as CronJobs and secrets (added by the
plugin's ``flyte_add_cli_commands``; imported only by the command line)."""

from __future__ import annotations

import click

from flyte_backend_kubernetes.secrets_cli import secrets_group


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


kubernetes_cmd.add_command(secrets_group)
