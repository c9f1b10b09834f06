"""Triggers as Kubernetes CronJobs: ``flyte kubernetes triggers deploy FILE`` turns each scheduled
``flyte.Trigger`` of FILE's tasks into a CronJob whose job is a driver pod (as for durable runs, see
``durable``) running ``flyte triggers fire FILE TRIGGER --on-the-minute`` in the cluster, so every
firing is a run on this backend, recorded in this machine's run store (hostPath data folder) with the
trigger's labels and its scheduled minute as ``flyte.TriggerTime``.

The images, the code bundle and the driver's config are made once, when deploying; redeploy after
changing the code. Needs the ``flyte-triggers`` plugin installed (it provides ``flyte triggers fire``)
and the hostPath data folder (with a remote store the runs would be recorded only in the pods).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, cast

import yaml
from kubernetes import client

from flyte_backend_kubernetes.client import connect
from flyte_backend_kubernetes.durable import (
    _HOST_ONLY,
    KubernetesLauncher,
    _check_runs_folder,
    _ensure_account,
    driver_pod,
)
from flyte_backend_kubernetes.gatepolicy import gate_policy
from flyte_backend_kubernetes.images import image_key
from flyte_backend_kubernetes.names import dns_name, label_value
from flyte_backend_kubernetes.options import KubeOptions
from flyte_backend_kubernetes.runsetup import data_access
from flyte_core.extend import (
    Cron,
    DataStore,
    FixedRate,
    FlyteUsageError,
    Image,
    Session,
    Trigger,
    flyte_home,
    load_file,
    make_bundle,
    task_triggers,
    tasks_in,
)

#: Label on every CronJob made here: the trigger's name.
TRIGGER_LABEL = "flyte-core.org/trigger"
#: Tells the driver to keep its config and its pod (a CronJob fires again; the Job owns the pod).
KEEP_ENV = "FLYTE_DRIVER_KEEP"


def cron_schedule(trigger: Trigger) -> str:
    """The CronJob schedule of ``trigger``; a clear error when Kubernetes cannot express it."""
    auto = trigger.automation
    if isinstance(auto, Cron):
        if auto.timezone not in ("UTC", "Etc/UTC"):
            raise FlyteUsageError(f"Trigger '{trigger.name}': CronJobs here run on the cluster's clock (UTC); write "
                                  f"the cron expression in UTC instead of {auto.timezone}.")
        return auto.expression
    if isinstance(auto, FixedRate):
        if auto.start_time is not None:
            raise FlyteUsageError(f"Trigger '{trigger.name}': a FixedRate with a start_time has no CronJob form; "
                                  "use flyte.Cron, or `flyte triggers run` to schedule it locally.")
        minutes = auto.interval_minutes
        if minutes == int(minutes):
            m = int(minutes)
            if 60 % m == 0:
                return "* * * * *" if m == 1 else f"*/{m} * * * *"
            if m % 60 == 0 and 24 % (m // 60) == 0:
                return "0 * * * *" if m == 60 else f"0 */{m // 60} * * *"
            if m == 1440:
                return "0 0 * * *"
        raise FlyteUsageError(f"Trigger '{trigger.name}': every {minutes} minutes has no cron form (a CronJob fires "
                              "on clock minutes); use a divisor of 60 minutes or of 24 hours, or flyte.Cron.")
    raise FlyteUsageError(f"Trigger '{trigger.name}' has no schedule (Cron or FixedRate); only scheduled triggers "
                          "become CronJobs.")


def cronjob_name(trigger: str) -> str:
    """The CronJob's name for ``trigger`` (CronJob names are at most 52 characters)."""
    return dns_name(f"flyte-trigger-{trigger}", 52)


def deploy(session: Session, file: str, names: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """Create (or replace) a CronJob per scheduled trigger of ``file``'s tasks (only ``names`` if given,
    else those with ``auto_activate``); returns (trigger, CronJob name, schedule) of each."""
    config = session.config
    raw = dict(config.backend_options("kubernetes"))
    opts = KubeOptions.parse(raw)
    access = data_access(config.data_url, opts.data_host_path)
    if access.host_path is None:
        raise FlyteUsageError("Deploying triggers as CronJobs needs the hostPath data folder "
                              "(backends.kubernetes.data_host_path), so their runs are recorded in this run store.")
    root = Path(config.root_dir or session.root_dir or Path.cwd()).resolve()
    rel = os.path.relpath(Path(file).resolve(), root)
    if rel.startswith(".."):
        raise FlyteUsageError(f"File '{file}' is outside the project folder {root}; deploy from the project folder.")
    module = load_file(Path(file), root)
    pairs = [(t, trig) for t in tasks_in(module).values() for trig in task_triggers(t)
             if isinstance(trig.automation, Cron | FixedRate) and (trig.name in names if names else trig.auto_activate)]
    missing = set(names) - {trig.name for _, trig in pairs}
    if missing:
        raise FlyteUsageError(f"File '{file}' has no scheduled trigger named {', '.join(sorted(missing))}.")
    if not pairs:
        raise FlyteUsageError(f"File '{file}' has no active scheduled trigger (flyte.Cron or flyte.FixedRate) to "
                              "deploy.")
    schedules = [(t, trig, cron_schedule(trig)) for t, trig in pairs]
    api_client, context_ns = connect(opts.context, opts.kubeconfig)
    try:
        api = client.CoreV1Api(api_client)
        namespace = opts.namespace or context_ns
        account = opts.service_account or "flyte-runner"
        _ensure_account(api_client, api, namespace, account)
        images = KubernetesLauncher()._build_images(session, opts, access, module)
        store = DataStore(config.data_url)
        state = [config.runs_path, f"{config.runs_path}-wal", f"{config.runs_path}-shm"]
        bundle = str(make_bundle(root, store, exclude=[access.host_path, str(flyte_home()), *state]))
        _check_runs_folder(config.runs_path)
        done = []
        for _task, trig, schedule in schedules:
            name = cronjob_name(trig.name)
            folder = store.url("triggers", name)
            store.put_bytes(f"triggers/{name}/images.json", json.dumps(images).encode())
            store.put_bytes(f"triggers/{name}/config.yaml", yaml.safe_dump({
                "backend": "kubernetes", "storage": {"data": config.data_url, "runs": config.runs_path},
                "env_vars": dict(config.env_vars),
                "backends": {"kubernetes": {**{k: v for k, v in raw.items() if k not in _HOST_ONLY},
                                            "namespace": namespace, "echo": False,
                                            "prebuilt_images": f"{folder}/images.json"}},
            }).encode())
            pod = driver_pod(name, namespace, account, images[image_key(Image.from_debian_base())],
                             opts.image_pull_policy, bundle, folder, access, config.runs_path, opts.data_secret, [],
                             gate_policy(module, opts, account, [access.host_path], api, namespace))
            container = pod["spec"]["containers"][0]
            cmd = container["command"]
            cmd[cmd.index(folder) + 1:] = ["triggers", "fire", rel, trig.name, "--on-the-minute"]
            container["env"].append({"name": KEEP_ENV, "value": "1"})
            _apply(api_client, namespace, cronjob(name, namespace, trig.name, schedule, pod["spec"]))
            done.append((trig.name, name, schedule))
        return done
    finally:
        api_client.close()


def cronjob(name: str, namespace: str, trigger: str, schedule: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    """The CronJob manifest: one Job per firing, never retried (a failed run is recorded as failed), runs
    may overlap as on a Flyte cluster, one finished Job of each kind kept for ``kubectl logs``."""
    labels = {TRIGGER_LABEL: label_value(trigger)}
    return {
        "kind": "CronJob", "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "schedule": schedule, "concurrencyPolicy": "Allow", "startingDeadlineSeconds": 120,
            "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 1,
            "jobTemplate": {"metadata": {"labels": labels}, "spec": {
                "backoffLimit": 0,
                "template": {"metadata": {"labels": labels}, "spec": {**pod_spec, "restartPolicy": "Never"}},
            }},
        },
    }


def _versions(api_client: client.ApiClient) -> list[str]:
    """The batch API versions that serve CronJobs on this cluster, newest first."""
    found = []
    for version in ("v1", "v1beta1"):
        try:
            resources = client.CustomObjectsApi(api_client).get_api_resources("batch", version)
        except client.ApiException:
            continue
        if any(r.name == "cronjobs" for r in resources.resources):
            found.append(version)
    if not found:
        raise FlyteUsageError("This cluster serves no CronJob API (batch/v1 or batch/v1beta1).")
    return found


def _apply(api_client: client.ApiClient, namespace: str, manifest: dict[str, Any]) -> None:
    version = _versions(api_client)[0]
    body = {**manifest, "apiVersion": f"batch/{version}"}
    api = client.CustomObjectsApi(api_client)
    name = manifest["metadata"]["name"]
    try:
        api.create_namespaced_custom_object("batch", version, namespace, "cronjobs", body)
    except client.ApiException as e:
        if e.status != 409:
            raise FlyteUsageError(f"The cluster refused CronJob {name}: {e.status} {e.reason}") from None
        current = cast(dict[str, Any], api.get_namespaced_custom_object("batch", version, namespace, "cronjobs", name))
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        api.replace_namespaced_custom_object("batch", version, namespace, "cronjobs", name, body)


def deployed(session: Session) -> list[dict[str, Any]]:
    """The CronJobs made here, in the configured namespace: name, trigger, schedule, last firing."""
    opts = KubeOptions.parse(dict(session.config.backend_options("kubernetes")))
    api_client, context_ns = connect(opts.context, opts.kubeconfig)
    try:
        version = _versions(api_client)[0]
        listed = cast(dict[str, Any], client.CustomObjectsApi(api_client).list_namespaced_custom_object(
            "batch", version, opts.namespace or context_ns, "cronjobs", label_selector=TRIGGER_LABEL))
        items: list[dict[str, Any]] = listed["items"]
        return [{"name": c["metadata"]["name"], "trigger": c["metadata"]["labels"][TRIGGER_LABEL],
                 "schedule": c["spec"]["schedule"], "last": (c.get("status") or {}).get("lastScheduleTime") or "-"}
                for c in items]
    finally:
        api_client.close()


def delete(session: Session, trigger: str) -> bool:
    """Delete the CronJob of ``trigger``, its Jobs and their pods (and its config); False if none."""
    opts = KubeOptions.parse(dict(session.config.backend_options("kubernetes")))
    api_client, context_ns = connect(opts.context, opts.kubeconfig)
    name = cronjob_name(trigger)
    namespace = opts.namespace or context_ns
    try:
        version = _versions(api_client)[0]
        try:
            client.CustomObjectsApi(api_client).delete_namespaced_custom_object(
                "batch", version, namespace, "cronjobs", name,
                body=client.V1DeleteOptions(propagation_policy="Foreground"))
        except client.ApiException as e:
            if e.status == 404:
                return False
            raise
        batch = client.BatchV1Api(api_client)
        for job in batch.list_namespaced_job(namespace, label_selector=f"{TRIGGER_LABEL}={label_value(trigger)}").items:
            if job.metadata is not None and job.metadata.name:
                batch.delete_namespaced_job(job.metadata.name, namespace, propagation_policy="Foreground")
        client.CoreV1Api(api_client).delete_collection_namespaced_pod(
            namespace, label_selector=f"{TRIGGER_LABEL}={label_value(trigger)}", grace_period_seconds=0)
    finally:
        api_client.close()
    store = DataStore(session.config.data_url)
    for part in ("config.yaml", "images.json"):
        try:
            store.rm(store.url("triggers", name, part))
        except Exception:
            pass
    return True
