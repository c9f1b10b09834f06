"""flyte.errors: every Flyte 2 name, the hierarchy Flyte 2 code catches, and the errors raised here."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import flyte
import flyte.errors as fe
from flyte_core.errors.core import CodeLoadError, FlyteUsageError
from flyte_core.run.failures import to_exception
from flyte_core.runstore.records import ErrorInfo
from flyte_core.task.loader import load_file
from tests import surface_tasks as t

DATA = Path(__file__).parent / "data" / "flyte2_surface.json"


@pytest.fixture(autouse=True)
def _init() -> None:
    flyte.init()


def test_every_public_name_of_flyte2_errors_is_here() -> None:
    import json

    names = json.loads(DATA.read_text())["flyte.errors"]
    assert len(names) == 56
    assert [n for n in names if not hasattr(fe, n)] == []


def test_flyte2_hierarchy() -> None:
    assert issubclass(fe.DeadlineExceededError, fe.TaskTimeoutError)
    assert issubclass(fe.MaxRuntimeExceededError, fe.TaskTimeoutError)
    assert issubclass(fe.ResourceExhaustedError, fe.SlowDownError)
    assert issubclass(fe.GPUFaultUserError, fe.GPUFaultError) and issubclass(fe.GPUFaultUserError, fe.RuntimeUserError)
    assert issubclass(fe.GPUFaultSystemError, fe.RuntimeSystemError)
    assert issubclass(fe.AppleSiliconNotAvailableError, fe.AppleSiliconError)
    assert fe.APPLE_SILICON_ERRORS_BY_CODE["APPLE_SILICON_DAEMON_OOM"] is fe.AppleSiliconDaemonOOMError
    assert fe.AppleSiliconNotAvailableError("x").recoverable is False
    err = fe.InvalidPackageError("numpyy", "no such package")
    assert err.code == "InvalidPackageError" and "numpyy" in str(err)


def test_a_deadline_passing_with_retries_left_raises_deadline_exceeded() -> None:
    with pytest.raises(fe.DeadlineExceededError) as ei:
        flyte.run(t.always_fails, x=3)
    assert isinstance(ei.value, fe.TaskTimeoutError)
    assert ei.value.code == "DeadlineExceededError"
    assert "deadline" in str(ei.value) and "no 3" in str(ei.value)
    run = ei.value.run  # type: ignore[attr-defined]
    assert [a.attempts for a in run.actions()] == [1]  # no retry was started
    assert run.actions()[0].phase.value == "timed_out"


def test_a_task_running_past_its_timeout_raises_max_runtime_exceeded() -> None:
    with pytest.raises(fe.MaxRuntimeExceededError) as ei:
        flyte.run(t.too_slow)
    assert isinstance(ei.value, fe.TaskTimeoutError) and ei.value.code == "TaskTimeoutError"


def test_recorded_codes_come_back_as_their_classes() -> None:
    gpu = to_exception(ErrorInfo("GpuXidError", "system", "Xid 79", action="a0"), "t")
    assert isinstance(gpu, fe.GPUFaultSystemError) and isinstance(gpu, fe.GPUFaultError)
    user_gpu = to_exception(ErrorInfo("GpuXidError", "user", "Xid 31", action="a0"), "t")
    assert isinstance(user_gpu, fe.GPUFaultUserError)
    apple = to_exception(ErrorInfo("APPLE_SILICON_NOT_AVAILABLE", "user", "no mac"), "t")
    assert isinstance(apple, fe.AppleSiliconNotAvailableError)
    queued = to_exception(ErrorInfo("MaxQueuedTimeExceededError", "user", "waited"), "t")
    assert isinstance(queued, fe.MaxQueuedTimeExceededError)
    assert isinstance(to_exception(ErrorInfo("ModuleLoadError", "user", "bad"), "t"), fe.ModuleLoadError)


def test_a_file_that_fails_to_import_is_a_module_load_error_and_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.py"
    bad.write_text("import no_such_module_here\n")
    with pytest.raises(fe.ModuleLoadError) as ei:
        load_file(bad, tmp_path)
    assert isinstance(ei.value, CodeLoadError) and isinstance(ei.value, FlyteUsageError)
    assert ei.value.code == "ModuleLoadError" and "broken.py" in str(ei.value)


def test_silence_polling_error_drops_only_blocking_io_errors() -> None:
    seen: list[dict[str, object]] = []
    loop = asyncio.new_event_loop()
    try:
        loop.default_exception_handler = seen.append  # type: ignore[method-assign]
        fe.silence_polling_error(loop, {"exception": BlockingIOError(), "message": "poll"})
        fe.silence_polling_error(loop, {"exception": ValueError("real"), "message": "other"})
    finally:
        loop.close()
    assert [c["message"] for c in seen] == ["other"]


def test_deploy_explains_there_is_no_control_plane() -> None:
    env = flyte.TaskEnvironment(name="deploy_me")
    with pytest.raises(fe.DeploymentError, match=r"deploy_me.*flyte run"):
        flyte.deploy(env)
