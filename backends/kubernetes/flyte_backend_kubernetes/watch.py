"""One resumable watch over the pods of a run: events, not polling.

:class:`PodWatcher` lists the pods matching a label selector once (delivering each as it is),
then watches from the list's ``resourceVersion`` in one thread. Every event advances the version
it resumes from, so a dropped connection (or the server ending the watch) is resumed where it
stopped without losing events; bookmarks keep the version fresh while nothing happens. When the
version is too old to resume from (410 Gone), it lists again and delivers the difference (pods
that changed as ``MODIFIED``, pods that vanished as ``DELETED``), so consumers never miss a
terminal state either way.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from kubernetes.client.exceptions import ApiException
from kubernetes.watch import Watch

log = logging.getLogger("flyte.kubernetes")

#: Called from the watcher's thread with the event type and the pod (the API's JSON).
OnEvent = Callable[[str, dict[str, Any]], None]


class PodWatcher:
    """Watches pods matching ``selector`` in ``namespace``; see the module doc.

    ``list_pods`` is ``CoreV1Api.list_namespaced_pod`` (or a fake with its signature);
    ``watch_factory`` makes a ``kubernetes.watch.Watch`` (replaceable in tests).
    """

    def __init__(self, list_pods: Callable[..., Any], namespace: str, selector: str, on_event: OnEvent, *,
                 watch_factory: Callable[[], Any] = Watch, timeout_seconds: int = 240,
                 backoff: float = 0.5) -> None:
        self._list = list_pods
        self.namespace = namespace
        self.selector = selector
        self._on_event = on_event
        self._factory = watch_factory
        self._timeout = timeout_seconds
        self._backoff = backoff
        self._stopping = threading.Event()
        self._watch: Any = None
        self._thread: threading.Thread | None = None
        self._known: dict[str, dict[str, Any]] = {}
        #: The version the next watch resumes from.
        self.resource_version: str | None = None
        #: How many times the watch was resumed after ending (dropped, expired or timed out).
        self.resumed = 0
        #: How many times it had to list again (the version was too old).
        self.relisted = 0

    @property
    def names(self) -> set[str]:
        """Names of the pods that currently exist, as far as the watch has seen."""
        return set(self._known)

    def start(self) -> None:
        """List once (raising the API's errors here, in the caller) and start watching."""
        self._relist()
        self.relisted = 0  # the first list is not a recovery
        self._thread = threading.Thread(target=self._run, name=f"flyte-k8s-watch-{self.selector}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching and wait for the thread (its blocking read is interrupted)."""
        self._stopping.set()
        w = self._watch
        if w is not None:
            w.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # --- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._watch = w = self._factory()
            try:
                for event in w.stream(self._list, namespace=self.namespace, label_selector=self.selector,
                                      resource_version=self.resource_version, timeout_seconds=self._timeout,
                                      allow_watch_bookmarks=True, deserialize=False):
                    if self._stopping.is_set():
                        break
                    self._handle(event)
            except ApiException as e:
                if self._stopping.is_set():
                    break
                if e.status == 410:  # too old to resume from: list again, deliver what changed
                    self._safe_relist()
                    continue
                log.warning("watch of pods %s failed (%s); resuming", self.selector, e.reason)
                self._stopping.wait(self._backoff)
            except Exception as e:  # a dropped connection: resume from the last version seen
                if self._stopping.is_set():
                    break
                log.debug("watch of pods %s dropped (%s); resuming from %s", self.selector, e, self.resource_version)
                self._stopping.wait(self._backoff)
            if not self._stopping.is_set():
                self.resumed += 1

    def _handle(self, event: dict[str, Any]) -> None:
        kind, obj = event.get("type"), event.get("object")
        if not isinstance(obj, dict):
            return
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            self.resource_version = str(version)
        if kind == "BOOKMARK" or kind not in ("ADDED", "MODIFIED", "DELETED"):
            return
        name = (obj.get("metadata") or {}).get("name", "")
        if kind == "DELETED":
            self._known.pop(name, None)
        else:
            self._known[name] = obj
        self._deliver(str(kind), obj)

    def _safe_relist(self) -> None:
        try:
            self._relist()
        except Exception as e:
            log.warning("listing pods %s failed (%s); retrying", self.selector, e)
            self._stopping.wait(self._backoff)

    def _relist(self) -> None:
        self.relisted += 1
        resp = self._list(self.namespace, label_selector=self.selector, _preload_content=False)
        body = json.loads(resp.data)
        self.resource_version = str((body.get("metadata") or {}).get("resourceVersion") or "") or None
        current = {(p.get("metadata") or {}).get("name", ""): p for p in body.get("items") or []}
        gone = {n: p for n, p in self._known.items() if n not in current}
        self._known = current
        for pod in current.values():
            self._deliver("MODIFIED", pod)
        for pod in gone.values():
            self._deliver("DELETED", pod)

    def _deliver(self, kind: str, pod: dict[str, Any]) -> None:
        try:
            self._on_event(kind, pod)
        except Exception:  # a consumer's bug must not end the watch of every other pod
            log.exception("handling a %s event of pod %s failed", kind, (pod.get("metadata") or {}).get("name"))
