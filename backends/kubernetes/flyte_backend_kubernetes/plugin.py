"""Registers the ``kubernetes`` backend, its launcher (durable runs driven by a pod in the
cluster) and the ``flyte kubernetes`` commands, as any third party would. Nothing heavy is
imported until a command or a run needs it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flyte_core.extend import hookimpl

if TYPE_CHECKING:
    # The run machinery is loaded by a run, and click by the command line (flyte_backend_kubernetes.cli),
    # not by loading the plugin: a task pod's worker loads every plugin and needs neither.
    import click

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


@hookimpl
def flyte_add_cli_commands(cli: click.Group) -> None:
    """``flyte kubernetes rbac | setup | prune | triggers | secrets``."""
    from flyte_backend_kubernetes.cli import kubernetes_cmd

    cli.add_command(kubernetes_cmd)
