"""Pod housekeeping that needs the API: creating, deleting, reading logs, and pruning pods that
outlived their run (a dead controller, or a debugging TTL that ran out)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from typing import Any

from kubernetes import client

from flyte_backend_kubernetes.names import (
    CONTROLLER_ANNOTATION,
    DRIVER_LABEL,
    EXPIRES_ANNOTATION,
    RUN_LABEL,
    run_selector,
)
from flyte_core.extend import controller_alive

#: At most this many lines of a pod's log are read back when the stream-tagged copy is missing.
LOG_LINES = 100_000


def controller_id() -> str:
    """This process as a pod annotation: ``pid@host``."""
    return f"{os.getpid()}@{socket.gethostname()}"


def delete_pod(api: client.CoreV1Api, name: str, namespace: str) -> None:
    """Delete a pod at once (grace 0: its outcome is collected, or it is being aborted); a pod
    already gone is fine."""
    try:
        api.delete_namespaced_pod(name, namespace, grace_period_seconds=0, propagation_policy="Background")
    except client.ApiException as e:
        if e.status != 404:
            raise


def keep_pod(api: client.CoreV1Api, name: str, namespace: str, seconds: float) -> None:
    """Mark a finished pod to be kept ``seconds`` for debugging, then pruned."""
    body: Any = {"metadata": {"annotations": {EXPIRES_ANNOTATION: str(int(time.time() + seconds))}}}
    with contextlib.suppress(client.ApiException):
        api.patch_namespaced_pod(name, namespace, body)


def pod_log(api: client.CoreV1Api, name: str, namespace: str, container: str = "primary") -> list[str]:
    """What the pod's container printed (both streams merged, as the API serves it); [] if none."""
    try:
        text = api.read_namespaced_pod_log(name, namespace, container=container, tail_lines=LOG_LINES,
                                           _request_timeout=30)
    except Exception:
        return []  # never started, or already gone: there is nothing to read
    return str(text).splitlines()


def tagged_log(path: str) -> list[tuple[str, str]] | None:
    """The stream-tagged lines the in-pod worker kept (see ``worker``; a path or an fsspec URL),
    or None without a file."""
    import fsspec

    try:
        with fsspec.open(path, "r", encoding="utf-8") as f:
            raw = f.read().splitlines()
    except OSError:  # FileNotFoundError included, as fsspec raises it for a missing object
        return None
    out = []
    for line in raw:
        try:
            item = json.loads(line)
        except ValueError:
            continue  # the last line of a worker killed mid-write
        out.append((str(item.get("s", "stdout")), str(item.get("l", ""))))
    return out


def list_pods(api: client.CoreV1Api, namespace: str, selector: str) -> list[dict[str, Any]]:
    """The pods matching ``selector``, as the API's JSON (as the watch delivers them too)."""
    resp: Any = api.list_namespaced_pod(namespace, label_selector=selector, _preload_content=False)
    items: list[dict[str, Any]] = json.loads(resp.data).get("items") or []
    return items


def _meta(pod: dict[str, Any], key: str) -> dict[str, str]:
    return dict((pod.get("metadata") or {}).get(key) or {})


def _name(pod: dict[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def delete_run(api: client.CoreV1Api, namespace: str, run: str, keep_finished: bool = False) -> list[str]:
    """Delete every pod of ``run`` (but finished ones still inside their debugging TTL when
    ``keep_finished``); return the names deleted. Only attempts that ended get the TTL
    annotation (an attempt whose worker said ``finished`` may still be exiting: it is kept too)."""
    gone = []
    now = time.time()
    for pod in list_pods(api, namespace, run_selector(run)):
        expires = _meta(pod, "annotations").get(EXPIRES_ANNOTATION)
        if keep_finished and expires and float(expires) > now:
            continue
        delete_pod(api, _name(pod), namespace)
        gone.append(_name(pod))
    return gone


def prune_orphans(api: client.CoreV1Api, namespace: str, run: str) -> int:
    """Delete the pods of ``run`` whose controller (on this host) is gone; return how many."""
    count = 0
    for pod in list_pods(api, namespace, run_selector(run)):
        if not controller_alive(str(_meta(pod, "annotations").get(CONTROLLER_ANNOTATION, ""))):
            delete_pod(api, _name(pod), namespace)
            count += 1
    return count


def prune(api: client.CoreV1Api, namespace: str, run: str | None = None) -> list[str]:
    """Delete task pods whose debugging TTL ran out or whose controller (on this host) is gone,
    or every pod of ``run``; return the runs they belonged to."""
    selector = run_selector(run) if run else RUN_LABEL
    runs: set[str] = set()
    now = time.time()
    for pod in list_pods(api, namespace, selector):
        notes = _meta(pod, "annotations")
        expires = notes.get(EXPIRES_ANNOTATION)
        stale = run is not None or (expires is not None and float(expires) <= now) \
            or (expires is None and not controller_alive(str(notes.get(CONTROLLER_ANNOTATION, ""))))
        if stale:
            delete_pod(api, _name(pod), namespace)
            runs.add(_meta(pod, "labels").get(RUN_LABEL, "?"))
    # Driver pods of durable runs delete themselves when their run ends; one that could not (the
    # API refused it in the last second) is gone once it has ended.
    for pod in list_pods(api, namespace, DRIVER_LABEL):
        of = _meta(pod, "labels").get(DRIVER_LABEL, "?")
        if (run is None or of == run) and (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            delete_pod(api, _name(pod), namespace)
            runs.add(of)
    return sorted(runs)
