"""Fast tests of the reactions to each pod state: :class:`PodAssessor` is fed pod JSON written here
by hand, shaped as the API server sends it in watch events.

What is faked and why: the pod states. Some (Evicted, a lost node, phase Unknown, a pod deleted
by someone else, a grace period that has not yet run out) cannot be produced on demand on a
single-node test cluster, and the others take seconds to minutes each; here every branch runs in
microseconds. The states a real cluster can produce are also tested there (test_k8s_e2e.py):
OOMKilled (test_oom_names_the_limit), DeadlineExceeded (test_timeout_is_the_pods_active_deadline),
ErrImagePull (test_missing_image_names_the_image), Unschedulable
(test_unschedulable_carries_the_schedulers_message), CreateContainerConfigError
(test_missing_secret_says_how_to_create_it); a deleted pod is what an abort does
(test_k8s_cli.py::test_abort_from_another_terminal_deletes_the_subtree).
"""

from __future__ import annotations

from typing import Any

from flyte_backend_kubernetes.failures import Graces, PodAssessor, RunProgress, Verdict, crashed_error


def assessor(**kw: Any) -> PodAssessor:
    return PodAssessor(pod="p", namespace="ns", action="a0", task="env.t", image="img:1", timeout=3,
                       graces=Graces(image_pull=10, unschedulable=20, start=30),
                       hint=kw.pop("hint", lambda files_only: ""), **kw)


def pod(phase: str, reason: str = "", message: str = "", state: dict[str, Any] | None = None,
        conditions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "reason": reason, "message": message, "conditions": conditions or []}
    if state is not None:
        status["containerStatuses"] = [{"name": "primary", "state": state}]
    return {"metadata": {"name": "p"}, "status": status}


def test_success_and_plain_exit() -> None:
    assert assessor().assess(pod("Succeeded"), 0).exit_code == 0  # type: ignore[union-attr]
    v = assessor().assess(pod("Failed", state={"terminated": {"exitCode": 3, "reason": "Error"}}), 0)
    assert v is not None and v.error is None and v.exit_code == 3 and not v.oom


def test_oomkilled_is_flagged() -> None:
    v = assessor().assess(pod("Failed", state={"terminated": {"exitCode": 137, "reason": "OOMKilled"}}), 0)
    assert v is not None and v.oom and v.error is None  # the backend adds the limit and the last lines


def test_a_sigkill_without_oomkilled_says_what_it_most_likely_was() -> None:
    killed = crashed_error("env.t", "a0", 1, "p", Verdict(exit_code=137, reason="Error"), ["allocating"])
    assert killed.code == "TaskInterruptedError" and "exited with code 137 (Error)" in killed.message
    assert "OOM killer" in killed.message and "Resources(memory=...)" in killed.message
    assert killed.message.endswith("allocating")
    plain = crashed_error("env.t", "a0", 1, "p", Verdict(exit_code=1, reason="Error"), [])
    assert "OOM" not in plain.message


def test_deadline_exceeded_is_a_timeout() -> None:
    v = assessor().assess(pod("Failed", "DeadlineExceeded", "Pod was active on the node longer than..."), 0)
    assert v is not None and v.error is not None
    assert v.error.code == "TaskTimeoutError" and "timeout of 3s" in v.error.message


def test_evicted_and_node_lost_are_system_errors() -> None:
    v = assessor().assess(pod("Failed", "Evicted", "The node was low on resource: memory."), 0)
    assert v is not None and v.error is not None and v.error.code == "Evicted" and v.error.kind == "system"
    assert "low on resource: memory" in v.error.message
    v = assessor().assess(pod("Failed", "NodeLost", "node gone"), 0)
    assert v is not None and v.error is not None and v.error.code == "NodeLost"


def test_unknown_phase_becomes_node_lost_after_the_grace() -> None:
    a = assessor()
    assert a.assess(pod("Unknown"), 0) is None
    assert a.next_check() == 30
    v = a.assess(pod("Unknown"), 30)
    assert v is not None and v.error is not None and v.error.code == "NodeLost"


def test_pod_deleted_by_someone_else() -> None:
    v = assessor().assess(None, 0)
    assert v is not None and v.error is not None and v.error.code == "PodDeleted"


def test_image_pull_errors_wait_for_the_grace_and_name_the_image() -> None:
    a = assessor()
    waiting = {"waiting": {"reason": "ErrImagePull", "message": "not found"}}
    assert a.assess(pod("Pending", state=waiting), 100) is None
    assert a.next_check() == 110
    backoff = {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling"}}
    v = a.assess(pod("Pending", state=backoff), 110)
    assert v is not None and v.error is not None and v.error.code == "ImagePullBackOffError"
    assert "img:1" in v.error.message and "ImagePullBackOff" in v.error.message
    assert "not found" in v.error.message  # why the pull failed, which the back-off message does not say


def test_invalid_image_name_fails_at_once() -> None:
    v = assessor().assess(pod("Pending", state={"waiting": {"reason": "InvalidImageName"}}), 0)
    assert v is not None and v.error is not None and v.error.code == "ImagePullBackOffError"


def test_a_condition_that_clears_starts_its_grace_afresh() -> None:
    a = assessor()
    waiting = {"waiting": {"reason": "ErrImagePull"}}
    a.assess(pod("Pending", state=waiting), 0)
    a.assess(pod("Pending", state={"waiting": {"reason": "ContainerCreating"}}), 5)
    assert a.next_check() is None
    assert a.assess(pod("Pending", state=waiting), 12) is None  # 12s after the first error, but 0s after this one


def test_unschedulable_carries_the_message_after_its_grace() -> None:
    a = assessor()
    cond = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."}]
    assert a.assess(pod("Pending", conditions=cond), 0) is None
    v = a.assess(pod("Pending", conditions=cond), 20)
    assert v is not None and v.error is not None and v.error.code == "Unschedulable"
    assert "3 Insufficient nvidia.com/gpu" in v.error.message


def test_an_unschedulable_pod_waits_while_its_run_moves() -> None:
    """Queued for room (a fan-out wider than the cluster), not stuck: its grace restarts whenever
    another pod of its run starts or ends, and runs out once nothing moves."""
    progress = RunProgress()
    a, other, third = (assessor(progress=progress) for _ in range(3))
    cond = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/1 nodes are available: 1 Insufficient cpu."}]
    assert a.assess(pod("Pending", conditions=cond), 0) is None
    assert a.next_check() == 20
    assert other.assess(pod("Running"), 15) is None  # another pod of the run started
    assert a.assess(pod("Pending", conditions=cond), 20) is None
    assert a.next_check() == 35
    assert other.assess(pod("Running"), 25) is None  # no change: not a move
    assert third.assess(pod("Succeeded"), 30) is not None  # one ended
    assert a.assess(pod("Pending", conditions=cond), 49) is None
    v = a.assess(pod("Pending", conditions=cond), 50)
    assert v is not None and v.error is not None and v.error.code == "Unschedulable"
    assert "no other pod of its run started or ended" in v.error.message
    assert "1 Insufficient cpu" in v.error.message


def test_missing_secret_as_env_and_as_file() -> None:
    hint = lambda files_only: "kubectl create secret generic flyte-x"  # noqa: E731
    a = assessor(hint=hint)
    config = {"waiting": {"reason": "CreateContainerConfigError", "message": 'secret "flyte-x" not found'}}
    assert a.assess(pod("Pending", state=config), 0) is None
    v = a.assess(pod("Pending", state=config), 30)
    assert v is not None and v.error is not None and v.error.kind == "user"
    assert "kubectl create secret generic flyte-x" in v.error.message
    b = assessor(hint=hint)  # a file secret: the pod just stays in ContainerCreating
    creating = {"waiting": {"reason": "ContainerCreating"}}
    assert b.assess(pod("Pending", state=creating), 0) is None
    v = b.assess(pod("Pending", state=creating), 30)
    assert v is not None and v.error is not None and "mounts Secrets as files" in v.error.message
    # Without file secrets, a slow ContainerCreating (a big image) is just waited for.
    c = assessor()
    assert c.assess(pod("Pending", state=creating), 0) is None and c.assess(pod("Pending", state=creating), 999) is None


def test_running_is_not_a_verdict() -> None:
    assert assessor().assess(pod("Running", state={"running": {"startedAt": "now"}}), 0) is None
