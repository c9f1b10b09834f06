"""Fast tests of the watch's resumption: a dropped watch resumes from the last resource version;
a version too old to resume from (410 Gone) leads to a new list whose differences are delivered.

What is faked and why: the API boundary — ``list_namespaced_pod`` and the ``Watch`` object. A real
API server cannot be made to drop a connection, or to compact away a resource version, on demand;
the fakes record the ``resource_version`` each watch starts from, which is the behaviour under
test. The watch itself runs against the real cluster in every e2e test (each attempt's outcome
arrives through it), including runs that outlive the server's watch timeout.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from flyte_backend_kubernetes.watch import PodWatcher
from kubernetes.client.exceptions import ApiException


def pod(name: str, rv: str, phase: str = "Running") -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": rv}, "status": {"phase": phase}}


class FakeList:
    """``list_namespaced_pod(..., _preload_content=False)``: an HTTP response whose ``data`` is JSON."""

    def __init__(self, lists: list[tuple[str, list[dict[str, Any]]]]) -> None:
        self.lists = lists
        self.calls = 0

    def __call__(self, namespace: str, **kw: Any) -> Any:
        rv, items = self.lists[min(self.calls, len(self.lists) - 1)]
        self.calls += 1
        return type("Resp", (), {"data": json.dumps({"metadata": {"resourceVersion": rv}, "items": items})})()


class FakeWatch:
    """Plays one script per ``stream`` call: events, then an exception (a drop) or the end."""

    scripts: list[tuple[list[dict[str, Any]], BaseException | None]] = []
    started_from: list[str | None] = []

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def stream(self, func: Any, **kw: Any) -> Any:
        FakeWatch.started_from.append(kw.get("resource_version"))
        if not FakeWatch.scripts:
            self.stopped.wait(5)  # nothing more to say: block like an idle watch until stopped
            return
        events, end = FakeWatch.scripts.pop(0)
        yield from events
        if end is not None:
            raise end

    def stop(self) -> None:
        self.stopped.set()


def collect() -> tuple[list[tuple[str, str, str]], Any]:
    seen: list[tuple[str, str, str]] = []

    def on_event(kind: str, obj: dict[str, Any]) -> None:
        seen.append((kind, obj["metadata"]["name"], obj["status"]["phase"]))
    return seen, on_event


def wait_until(cond: Any) -> None:
    deadline = time.monotonic() + 5
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cond()


def test_a_dropped_watch_resumes_from_the_last_version() -> None:
    FakeWatch.started_from = []
    FakeWatch.scripts = [
        ([{"type": "MODIFIED", "object": pod("p1", "11")}], ConnectionResetError("dropped")),
        ([{"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "15"}}},
          {"type": "MODIFIED", "object": pod("p1", "17", "Succeeded")}], None),
    ]
    seen, on_event = collect()
    w = PodWatcher(FakeList([("10", [pod("p1", "9", "Pending")])]), "ns", "run=r", on_event,
                   watch_factory=FakeWatch, backoff=0.01)
    w.start()
    wait_until(lambda: len(FakeWatch.started_from) >= 3)
    w.stop()
    assert FakeWatch.started_from[:3] == ["10", "11", "17"]  # list's version, after the drop, after the end
    assert seen == [("MODIFIED", "p1", "Pending"), ("MODIFIED", "p1", "Running"), ("MODIFIED", "p1", "Succeeded")]
    assert w.relisted == 0 and w.resumed >= 2


def test_gone_lists_again_and_delivers_what_changed() -> None:
    FakeWatch.started_from = []
    FakeWatch.scripts = [([], ApiException(status=410, reason="Gone"))]
    seen, on_event = collect()
    lists = FakeList([("10", [pod("p1", "9"), pod("p2", "9")]), ("50", [pod("p1", "40", "Succeeded")])])
    w = PodWatcher(lists, "ns", "run=r", on_event, watch_factory=FakeWatch, backoff=0.01)
    w.start()
    wait_until(lambda: len(FakeWatch.started_from) >= 2)
    w.stop()
    assert FakeWatch.started_from[:2] == ["10", "50"]
    assert ("MODIFIED", "p1", "Succeeded") in seen and ("DELETED", "p2", "Running") in seen
    assert w.relisted == 1 and w.names == {"p1"}


def test_stop_ends_the_thread_promptly() -> None:
    FakeWatch.started_from = []
    FakeWatch.scripts = []
    _, on_event = collect()
    w = PodWatcher(FakeList([("1", [])]), "ns", "run=r", on_event, watch_factory=FakeWatch)
    w.start()
    wait_until(lambda: len(FakeWatch.started_from) == 1)
    start = time.monotonic()
    w.stop()
    assert time.monotonic() - start < 2
    assert not any(t.name.startswith("flyte-k8s-watch") for t in threading.enumerate())
