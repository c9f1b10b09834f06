"""``flyte kubernetes secrets push | list``: local secrets into the Kubernetes Secrets tasks use.

``push`` resolves each named secret exactly as the docker backend does when it starts a container
(``flyte_secret_value`` through the session's plugins: a plugin first, then
``FLYTE_SECRET_<GROUP>_<KEY>``, then the local store of ``flyte secrets set``) and creates or
updates the Secret :func:`~flyte_backend_kubernetes.names.secret_name` names, its value under the
data key ``value`` — the Secret a task's ``flyte.Secret`` refers to on this backend. Every value is
resolved before anything is written, so a secret without a value fails the command with nothing
pushed. Pushed Secrets carry the label ``app.kubernetes.io/managed-by: flyte-core`` and the
annotation ``flyte-core.org/secret: <group>/<key>`` (names only), which ``list`` shows. Values are
never printed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import click

from flyte_backend_kubernetes.names import MANAGED_LABEL, SECRET_KEY, secret_name
from flyte_core.extend import FlyteUsageError, Secret, secret_id

#: The label value on Secrets this command writes (as on what ``flyte kubernetes setup`` makes).
MANAGED_BY = "flyte-core"
#: Annotation naming the flyte secret (``group/key`` or ``key``) a pushed Secret holds.
SECRET_ANNOTATION = "flyte-core.org/secret"
_MOUNT = Path("/etc/flyte/secrets")


def parse_secret(name: str) -> Secret:
    """The ``flyte.Secret`` a command-line NAME (``key`` or ``group/key``, as ``flyte secrets set``
    takes it) stands for."""
    group, _, key = name.partition("/") if "/" in name else ("", "", name)
    if not key or ("/" in name and not group):
        raise FlyteUsageError(f"Secret name '{name}' must be KEY or GROUP/KEY.")
    # As a file secret: a key need not make a valid env var name here (the Secret serves both ways).
    return Secret(key=key, group=group or None, mount=_MOUNT)


@attrs.frozen
class Pushed:
    """One secret pushed: its flyte name, its Kubernetes Secret, and whether it was new."""

    secret: str
    name: str
    created: bool


def resolve(plugins: Any, names: Sequence[str]) -> list[tuple[Secret, str]]:
    """Every named secret with its value from the session's providers; a FlyteUsageError naming all
    secrets that have none (or that would share one Kubernetes Secret)."""
    from flyte_core.extend import how_to_set, secret_value

    secrets = [parse_secret(n) for n in dict.fromkeys(names)]
    by_name: dict[str, str] = {}
    for s in secrets:
        other = by_name.setdefault(secret_name(s), secret_id(s))
        if other != secret_id(s):
            raise FlyteUsageError(
                f"Secrets '{other}' and '{secret_id(s)}' would both be the Kubernetes Secret "
                f"{secret_name(s)} (lower case, other characters as '-'); rename one."
            )
    values = [(s, secret_value(plugins, s)) for s in secrets]
    missing = [s for s, v in values if v is None]
    if missing:
        if len(missing) == 1:
            raise FlyteUsageError(
                f"Secret '{secret_id(missing[0])}' has no value (nothing was pushed); {how_to_set(missing[0])}."
            )
        which = ", ".join(f"'{secret_id(s)}'" for s in missing)
        how = "; ".join(f"for '{secret_id(s)}', {how_to_set(s)}" for s in missing)
        raise FlyteUsageError(f"Secrets {which} have no value (nothing was pushed); {how}.")
    return [(s, v) for s, v in values if v is not None]


def _reason(e: Any) -> str:
    """The API server's own message of an ApiException, else its status."""
    try:
        message = json.loads(e.body or "{}").get("message")
    except (TypeError, ValueError):
        message = None
    return f"{e.status} {e.reason}" + (f": {message}" if message else "")


def _upsert(api: Any, namespace: str, secret: Secret, value: str) -> bool:
    """Create the Secret of ``secret``, or replace its data; True when it was created."""
    from kubernetes import client

    name = secret_name(secret)
    data: dict[str, str | bytes] = {SECRET_KEY: base64.b64encode(value.encode()).decode()}
    labels = {MANAGED_LABEL: MANAGED_BY}
    annotations = {SECRET_ANNOTATION: secret_id(secret)}
    body = client.V1Secret(
        api_version="v1",
        kind="Secret",
        type="Opaque",
        data=data,
        metadata=client.V1ObjectMeta(name=name, labels=labels, annotations=annotations),
    )
    try:
        api.create_namespaced_secret(namespace, body, _request_timeout=30)
        return True
    except client.ApiException as e:
        if e.status != 409:
            raise
    for attempt in range(3):  # exists: replace its data (a concurrent writer means read again)
        current = api.read_namespaced_secret(name, namespace, _request_timeout=30)
        current.data, current.string_data = data, None
        current.metadata.labels = {**(current.metadata.labels or {}), **labels}
        current.metadata.annotations = {**(current.metadata.annotations or {}), **annotations}
        try:
            api.replace_namespaced_secret(name, namespace, current, _request_timeout=30)
            return False
        except client.ApiException as e:
            if e.status != 409 or attempt == 2:
                raise
    raise AssertionError("unreachable")


def push(
    api: Any, namespace: str, resolved: Sequence[tuple[Secret, str]], report: Callable[[Pushed], None] = lambda p: None
) -> list[Pushed]:
    """Create or update the Secret of each resolved secret in ``namespace``, telling ``report``
    after each one. On a failure, a FlyteUsageError saying which were pushed before it."""
    from kubernetes import client

    done: list[Pushed] = []
    for secret, value in resolved:
        name = secret_name(secret)
        try:
            created = _upsert(api, namespace, secret, value)
        except Exception as e:
            if isinstance(e, client.ApiException):
                if e.status == 404:
                    why = (
                        f"namespace '{namespace}' does not exist (create it with `flyte kubernetes setup -n "
                        f"{namespace}` or choose another with --namespace)"
                    )
                elif e.status in (401, 403):
                    why = (
                        f"the cluster refused ({_reason(e)}); your kubeconfig's user needs to create, get and "
                        f"update secrets in namespace '{namespace}'"
                    )
                else:
                    why = _reason(e)
            else:
                why = f"cannot reach the API server at {api.api_client.configuration.host} ({type(e).__name__}: {e})"
            before = ", ".join(f"'{p.secret}' ({p.name})" for p in done) or "none"
            rest = ", ".join(f"'{secret_id(s)}'" for s, _ in resolved[len(done) :])
            raise FlyteUsageError(
                f"Could not push secret '{secret_id(secret)}' to Secret {name} in namespace "
                f"'{namespace}': {why}. Pushed before the error: {before}; not pushed: {rest}."
            ) from None
        done.append(Pushed(secret_id(secret), name, created))
        report(done[-1])
    return done


@attrs.frozen
class Managed:
    """A flyte-managed Secret: its name, the flyte secret it holds, and when it was created."""

    name: str
    secret: str
    created: dt.datetime | None


def managed(api: Any, namespace: str) -> list[Managed]:
    """The Secrets in ``namespace`` labelled as managed by flyte-core (names only, never data)."""
    from kubernetes import client

    try:
        # Metadata only would be nicer, but the typed client lists whole objects: data is dropped here.
        items = api.list_namespaced_secret(
            namespace, label_selector=f"{MANAGED_LABEL}={MANAGED_BY}", _request_timeout=30
        ).items
    except client.ApiException as e:
        raise FlyteUsageError(f"Could not list Secrets in namespace '{namespace}': {_reason(e)}.") from None
    except Exception as e:
        raise FlyteUsageError(
            f"Cannot reach the API server at {api.api_client.configuration.host} ({type(e).__name__}: {e})."
        ) from None
    out = [
        Managed(
            s.metadata.name, (s.metadata.annotations or {}).get(SECRET_ANNOTATION, "?"), s.metadata.creation_timestamp
        )
        for s in items
    ]
    return sorted(out, key=lambda m: m.name)


def age(since: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """``since`` as kubectl shows ages: 45s, 12m, 3h, 9d."""
    if since is None:
        return "?"
    seconds = max(0, int(((now or dt.datetime.now(dt.UTC)) - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# --- the commands ---------------------------------------------------------------------------------


def _session(ctx: click.Context) -> Any:
    from flyte_core.extend import CliState

    return (ctx.find_object(CliState) or CliState()).session()


def _connect(session: Any, context: str | None) -> tuple[Any, str | None, str]:
    """A CoreV1Api, the configured namespace (``backends.kubernetes.namespace``) and the context's."""
    from kubernetes import client

    from flyte_backend_kubernetes.client import connect
    from flyte_backend_kubernetes.options import KubeOptions

    opts = KubeOptions.parse(session.config.backend_options("kubernetes"), session.config.source)
    api_client, context_ns = connect(context or opts.context, opts.kubeconfig)
    return client.CoreV1Api(api_client), opts.namespace, context_ns


_ns = click.option(
    "--namespace", "-n", default=None, help="Namespace (default: backends.kubernetes.namespace, else the context's)."
)
_ctx = click.option(
    "--context", default=None, help="kubeconfig context (default: backends.kubernetes.context, else the current one)."
)


@click.group("secrets")
def secrets_group() -> None:
    """Local secrets (`flyte secrets set`) as the Kubernetes Secrets tasks read."""


@secrets_group.command("push")
@click.argument("names", nargs=-1)
@_ns
@_ctx
@click.option("--all", "all_", is_flag=True, help="Push every secret of the local store (`flyte secrets list`).")
@click.pass_context
def push_cmd(
    ctx: click.Context, names: tuple[str, ...], namespace: str | None, context: str | None, all_: bool
) -> None:
    """Create or update the Kubernetes Secret of each secret NAME (`key` or `group/key`): named
    flyte-<group>-<key>, its value under the data key `value`. Values come from the same providers
    as for the docker backend (a plugin, FLYTE_SECRET_<GROUP>_<KEY>, the local store) and are never
    printed."""
    from flyte_core.extend import LocalSecretStore

    if all_ and names:
        raise FlyteUsageError("Give secret names or --all, not both.")
    if all_:
        store = LocalSecretStore()
        names = tuple(store.names())
        if not names:
            raise FlyteUsageError(
                f"The local secret store ({store.path}) holds no secrets; add one with `flyte secrets set NAME`."
            )
    elif not names:
        raise FlyteUsageError("Name the secrets to push (`flyte secrets list` shows the local ones), or use --all.")
    session = _session(ctx)
    resolved = resolve(session.plugins, names)  # every value first: a missing one pushes nothing
    api, configured_ns, context_ns = _connect(session, context)
    ns = namespace or configured_ns or context_ns
    try:
        push(
            api,
            ns,
            resolved,
            lambda p: click.echo(
                f"{p.secret} -> Secret {p.name} in namespace {ns} ({'created' if p.created else 'updated'})"
            ),
        )
    finally:
        api.api_client.close()


@secrets_group.command("list")
@_ns
@_ctx
@click.pass_context
def list_cmd(ctx: click.Context, namespace: str | None, context: str | None) -> None:
    """The flyte-managed Secrets of the namespace: name, the flyte secret it holds, age (never values)."""
    api, configured_ns, context_ns = _connect(_session(ctx), context)
    ns = namespace or configured_ns or context_ns
    try:
        found = managed(api, ns)
    finally:
        api.api_client.close()
    if not found:
        click.echo(
            f"No Secrets managed by flyte-core in namespace {ns}; push some with `flyte kubernetes secrets push NAME`.",
            err=True,
        )
        return
    rows = [("NAME", "FLYTE SECRET", "AGE")] + [(m.name, m.secret, age(m.created)) for m in found]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for name, secret, when in rows:
        click.echo(f"{name:<{widths[0]}}   {secret:<{widths[1]}}   {when}")
