"""Pod states in Kubernetes terms, turned into attempt outcomes (pure: no API calls).

:class:`PodAssessor` reads each new state of one attempt's pod (the API's JSON, as the watch
delivers it) and says when the attempt is over: the container ended (the backend then reads the
outcome file), or the pod failed in a way the task never saw — ImagePullBackOff / ErrImagePull
(naming the image), Unschedulable (with the scheduler's message), OOMKilled (with the limit),
Evicted, DeadlineExceeded (the task's timeout, as ``activeDeadlineSeconds``), a lost node, a
container that could not be created (a missing Secret). Conditions the kubelet or an autoscaler
may still resolve get a grace period first; :meth:`PodAssessor.next_check` says when to look
again if no new event arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from flyte_core.extend import ErrorInfo

#: Waiting reasons that retrying the pull cannot fix.
FATAL_IMAGE = frozenset({"InvalidImageName", "ErrImageNeverPull"})
PULL_ERRORS = frozenset({"ErrImagePull", "ImagePullBackOff", "RegistryUnavailable"})
CREATE_ERRORS = frozenset({"CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
#: The exit code of a container killed with SIGKILL (128 + 9).
SIGKILLED = 137
NODE_LOST = frozenset({"NodeLost", "Shutdown", "NodeShutdown", "Terminated", "NodeAffinity"})


@attrs.frozen
class Verdict:
    """The attempt is over: ``error`` when the pod failed before the task could report, else the
    container ended with ``exit_code`` and the outcome file (if any) says how the task did."""

    error: ErrorInfo | None = None
    exit_code: int | None = None
    reason: str | None = None
    message: str = ""
    oom: bool = False


@attrs.frozen
class Graces:
    """Seconds a recoverable condition may last before the attempt fails (see ``KubeOptions``)."""

    image_pull: float = 20.0
    unschedulable: float = 60.0
    start: float = 60.0


@attrs.define
class RunProgress:
    """When a pod of the run last started or ended (monotonic seconds), shared by its assessors.

    A pod the scheduler has no room for while other pods of its run come and go is queued (a
    fan-out wider than the cluster): it waits for room, as on Flyte 2. One that finds no room
    while nothing of its run moves (parents holding their CPUs while they wait for children that
    cannot fit) never will: it fails once the unschedulable grace has passed since the last move.
    """

    last: float = float("-inf")

    def advance(self, now: float) -> None:
        """A pod of the run started or ended at ``now``."""
        self.last = max(self.last, now)


class PodAssessor:
    """Follows the states of one attempt's pod; see the module doc.

    ``hint`` is called with ``files_only`` and returns advice on missing Secrets (or "").
    ``progress`` is shared by the run's assessors (a fresh one when not given: the pod is on its own).
    """

    def __init__(self, *, pod: str, namespace: str, action: str, task: str, image: str, graces: Graces,
                 timeout: float | None = None, hint: Callable[[bool], str] = lambda files_only: "",
                 progress: RunProgress | None = None) -> None:
        self.pod, self.namespace, self.action, self.task, self.image = pod, namespace, action, task, image
        self.graces, self.timeout, self.hint = graces, timeout, hint
        self.progress = progress if progress is not None else RunProgress()
        self._since: dict[str, float] = {}
        self._pull_error = ""  # the last ErrImagePull message: why the pull failed (a back-off hides it)
        self.phase = "Pending"

    def next_check(self) -> float | None:
        """When a condition seen so far runs out of grace (monotonic seconds), if any."""
        ends = [self._started(k) + self._grace(k) for k in self._since]
        return min(ends) if ends else None

    def assess(self, pod: Mapping[str, Any] | None, now: float) -> Verdict | None:
        """The verdict on the pod's state ``pod`` (None: the pod is gone) at time ``now``."""
        if pod is None:
            return self._fail("PodDeleted", "system", f"its pod {self._where} was deleted before it finished (by "
                              "someone else, or because its node was lost); a retry starts a new pod")
        status = pod.get("status") or {}
        phase = status.get("phase") or "Pending"
        if phase != self.phase and phase in ("Running", "Succeeded", "Failed"):
            self.progress.advance(now)
        self.phase = phase
        reason, message = status.get("reason") or "", status.get("message") or ""
        state = _primary_state(status)
        if phase == "Succeeded":
            return Verdict(exit_code=0)
        if phase == "Failed":
            return self._failed(reason, message, state)
        seen: set[str] = set()
        verdict = self._pending(status, state, now, seen) if phase == "Pending" else None
        if phase == "Unknown":
            seen.add("unknown")
            self._since.setdefault("unknown", now)
            if now - self._since["unknown"] >= self.graces.start:
                verdict = self._fail("NodeLost", "system", f"the node of its pod {self._where} stopped reporting "
                                     f"({message or 'phase Unknown'})")
        for key in set(self._since) - seen:  # conditions that cleared up start their grace afresh
            del self._since[key]
        return verdict

    # --- phases ------------------------------------------------------------------------------

    def _failed(self, reason: str, message: str, state: Mapping[str, Any]) -> Verdict:
        if reason == "DeadlineExceeded":
            limit = f"{self.timeout:g}s" if self.timeout is not None else "its activeDeadlineSeconds"
            return self._fail("TaskTimeoutError", "user", f"it did not finish within its timeout of {limit}; "
                              f"Kubernetes stopped its pod {self._where} (DeadlineExceeded)")
        if reason == "Evicted":
            return self._fail("Evicted", "system", f"its pod {self._where} was evicted by the kubelet: "
                              f"{message or 'the node ran short of resources'}")
        if reason in NODE_LOST:
            return self._fail("NodeLost", "system", f"its pod {self._where} was stopped because its node went "
                              f"away ({reason}: {message or 'no message'})")
        term = state.get("terminated")
        if term:
            code = term.get("exitCode")
            return Verdict(exit_code=int(code) if code is not None else None, reason=term.get("reason"),
                           message=str(term.get("message") or ""), oom=term.get("reason") == "OOMKilled")
        return self._fail(reason or "PodFailed", "system", f"its pod {self._where} failed before its container "
                          f"ran ({reason or 'no reason'}: {message or 'no message'})")

    def _pending(self, status: Mapping[str, Any], state: Mapping[str, Any], now: float,
                 seen: set[str]) -> Verdict | None:
        for cond in status.get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False" \
                    and cond.get("reason") == "Unschedulable":
                seen.add("unschedulable")
                self._since.setdefault("unschedulable", now)
                if now - self._started("unschedulable") >= self.graces.unschedulable:
                    return self._fail("Unschedulable", "system", f"its pod {self._where} could not be scheduled "
                                      f"for {self.graces.unschedulable:g}s, while no other pod of its run started "
                                      f"or ended: {cond.get('message') or 'no message'}; ask for fewer resources "
                                      "or add nodes that fit (tasks waiting for their children keep what they "
                                      "asked for)")
        waiting = state.get("waiting") or {}
        why, msg = waiting.get("reason") or "", waiting.get("message") or ""
        if why in FATAL_IMAGE:
            return self._image_error(why, msg)
        if why in PULL_ERRORS:
            if why == "ErrImagePull" and msg:
                self._pull_error = msg
            seen.add("pull")
            self._since.setdefault("pull", now)
            if now - self._since["pull"] >= self.graces.image_pull:
                return self._image_error(why, msg)
        elif why in CREATE_ERRORS:
            seen.add("create")
            self._since.setdefault("create", now)
            if now - self._since["create"] >= self.graces.start:
                hint = self.hint(False) if "secret" in msg.lower() else ""
                return self._fail(why, "user" if why == "CreateContainerConfigError" else "system",
                                  f"the container of its pod {self._where} could not be created: {msg or why}"
                                  + (f".\n{hint}" if hint else ""))
        elif why == "ContainerCreating" and self.hint(True):
            # A Secret mounted as files that does not exist keeps the pod here (FailedMount
            # events), with no container state saying so.
            seen.add("mount")
            self._since.setdefault("mount", now)
            if now - self._since["mount"] >= self.graces.start:
                return self._fail("CreateContainerConfigError", "user", f"its pod {self._where} did not start "
                                  f"within {self.graces.start:g}s; it mounts Secrets as files, and one may be "
                                  f"missing.\n{self.hint(True)}")
        return None

    # --- helpers -----------------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"{self.pod} (namespace {self.namespace})"

    def _started(self, key: str) -> float:
        """When condition ``key``'s grace began: an unschedulable pod's restarts whenever its run moves."""
        since = self._since[key]
        return max(since, self.progress.last) if key == "unschedulable" else since

    def _grace(self, key: str) -> float:
        return {"pull": self.graces.image_pull, "unschedulable": self.graces.unschedulable}.get(key, self.graces.start)

    def _image_error(self, why: str, msg: str) -> Verdict:
        if self._pull_error and self._pull_error not in msg:  # "Back-off pulling image ..." says not why
            msg = f"{msg or why}; the last pull failed with: {self._pull_error}"
        return self._fail("ImagePullBackOffError", "system", f"its image {self.image} could not be pulled for "
                          f"its pod {self._where} ({why}: {msg or 'no message'}); check the image name, "
                          "that the cluster can reach its registry and, for a private registry, the pull "
                          "credentials (flyte.Image(registry_secret=...) or the ServiceAccount's "
                          "imagePullSecrets)")

    def _fail(self, code: str, kind: str, text: str) -> Verdict:
        return Verdict(error=ErrorInfo(code, kind, f"Task '{self.task}' (action {self.action}): {text}.",
                                       action=self.action), reason=code)


def _primary_state(status: Mapping[str, Any]) -> Mapping[str, Any]:
    """The state of the task's container (the first one reported when it has another name)."""
    statuses = status.get("containerStatuses") or []
    for cs in statuses:
        if cs.get("name") == "primary":
            return cs.get("state") or {}
    return (statuses[0].get("state") or {}) if statuses else {}


def oom_error(task: str, action: str, pod: str, limit: str, tail: list[str]) -> ErrorInfo:
    """The error of an attempt whose container the kernel killed for exceeding its memory."""
    msg = (f"Task '{task}' (action {action}) exceeded its memory limit of {limit} and was killed (OOMKilled, "
           f"pod {pod}); raise Resources(memory=...) or use less memory.")
    return ErrorInfo("OOMError", "user", msg + _tail(tail), action=action)


def crashed_error(task: str, action: str, attempt: int, pod: str, verdict: Verdict, tail: list[str]) -> ErrorInfo:
    """The error of an attempt whose container ended without writing an outcome."""
    why = f" ({verdict.reason})" if verdict.reason else ""
    msg = (f"The container of action {action} (task '{task}', attempt {attempt}, pod {pod}) exited with code "
           f"{verdict.exit_code}{why} before the task finished.")
    if verdict.exit_code == SIGKILLED:
        # Docker 20.10 (a dockershim node) can lose the OOMKilled flag when several containers are
        # OOM-killed at once (docs/docker.md, "Failures"): say what the 137 most likely was.
        msg += (" Code 137 is a SIGKILL, most often the kernel's OOM killer (a Docker-based node can report one "
                "without OOMKilled): if the task may use more than its memory limit, raise Resources(memory=...).")
    return ErrorInfo("TaskInterruptedError", "system", msg + _tail(tail or verdict.message.splitlines()[-20:]),
                     action=action)


def timeout_error(task: str, action: str, timeout: float | None, pod: str) -> ErrorInfo:
    """The error of an attempt the controller stopped at its timeout (the kubelet had not yet)."""
    return ErrorInfo("TaskTimeoutError", "user", f"Task '{task}' (action {action}) did not finish within its "
                     f"timeout of {timeout:g}s; its pod {pod} was deleted.", action=action)


def _tail(lines: list[str]) -> str:
    return ("\nLast output lines:\n" + "\n".join(lines)) if lines else ""
