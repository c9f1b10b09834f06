"""Flyte 2's runtime APIs in the core: keyword checking of init/with_runcontext/override, notices,
disable_run_cache, version, the null context outside tasks, flyte.durable outside tasks, the
checkpoint helper on its own, and how a child's exception type is rebuilt (or not).

What must hold on every backend (custom context across calls, exceptions by type, checkpoints and
durable values surviving retries and --recover) is in the conformance suite
(flyte_core/testing/backends.py), which every backend's tests run.
"""

from __future__ import annotations

import datetime as dt
import pickle
import time
from pathlib import Path

import pytest

import flyte
import flyte.durable
import flyte.errors
from flyte_core.run.exctypes import find_class, type_path, user_error_class
from flyte_core.run.failures import to_exception
from flyte_core.runstore.records import ErrorInfo
from flyte_core.runtime.checkpoint import Checkpoint, latest_checkpoint

env = flyte.TaskEnvironment(name="runtime_apis")
calls: list[int] = []


@env.task(cache="auto")
def cached(x: int) -> int:
    calls.append(x)
    return x * 2


@env.task
def version_of() -> str:
    return flyte.ctx().version


class NeedsTwo(Exception):
    """An exception whose constructor takes two arguments (a caller cannot call it with one)."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}/{b}")


# --- unknown keywords ------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda: flyte.init(endpont="x"),
    lambda: flyte.init_from_config(None, endpoint="x"),
    lambda: flyte.with_runcontext(overwrite_cach=True),
    lambda: cached.override(retires=2),
    lambda: env.task(retires=2),
    lambda: flyte.TaskEnvironment(name="x", imag="y"),
])
def test_unknown_keywords_are_type_errors_naming_them(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match=r"endpont|endpoint|overwrite_cach|retires|imag"):
        call()


@pytest.mark.parametrize("field", ["name", "image", "docs", "interface"])
def test_override_refuses_what_cannot_change(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field} cannot be overridden"):
        cached.override(**{field: "x"})


def test_override_keeps_settings_for_backends() -> None:
    t = cached.override(resources=flyte.Resources(cpu=2), queue=None, retries=3)
    # Environment settings change this copy's own environment (None means "no change", as in Flyte 2).
    assert t.env.resources == flyte.Resources(cpu=2) and cached.env.resources != t.env.resources
    assert t.env.queue == cached.env.queue and t.extra == {} and t.retries.count == 3


def test_control_plane_keywords_are_accepted_with_a_notice(tmp_path: Path) -> None:
    session = flyte.init(storage=str(tmp_path / "data"), project="p", endpoint="dns:///x", rpc_retries=3)
    notes = session.notices
    assert len(notes) == 2 and "project" in notes[0] and "endpoint" in notes[1], notes  # rpc_retries=3 is the default
    run = flyte.with_runcontext(project="p", queue="q", copy_style="none").run(cached, x=1)
    assert [n.split("(")[1].split("=")[0] for n in run.notices[:3]] == ["project", "queue", "copy_style"]
    assert flyte.with_runcontext(project=None).run(cached, x=1).notices == []


# --- run settings ----------------------------------------------------------------------------------


def test_disable_run_cache_neither_reads_nor_writes_the_cache() -> None:
    flyte.init()
    calls.clear()
    flyte.with_runcontext(disable_run_cache=True).run(cached, x=5)
    flyte.run(cached, x=5)  # the first run wrote nothing: this one computes (and caches)
    run = flyte.with_runcontext(disable_run_cache=True).run(cached, x=5)
    assert calls == [5, 5, 5]
    assert run.actions()[0].cache_hit is False
    assert flyte.run(cached, x=5).actions()[0].cache_hit is True and calls == [5, 5, 5]


def test_version_is_the_tasks_own_or_the_runs() -> None:
    flyte.init()
    own = flyte.run(version_of).outputs()[0]
    assert own and len(own) == 16
    assert flyte.with_runcontext(version="v7").run(version_of).outputs()[0] == "v7"


def test_run_start_time_can_be_set() -> None:
    flyte.init()
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    fields = flyte.with_runcontext(run_start_time=when).run(env.task(_start_time)).outputs()[0]
    assert fields == when.isoformat()


def _start_time() -> str:
    start = flyte.ctx().run_start_time
    return start.isoformat() if start is not None else ""


# --- outside a task --------------------------------------------------------------------------------


def test_ctx_outside_a_task_is_a_falsy_null_context() -> None:
    c = flyte.ctx()
    assert not c and repr(c) == "NullTaskContext()"
    assert c.action is None and c.custom_context is None and c.attempt_number is None and c.checkpoint is None
    assert flyte.get_custom_context() == {}
    with flyte.custom_context(a="1"):  # no effect outside a task, as in Flyte 2
        assert flyte.get_custom_context() == {}


def test_durable_outside_a_task_is_the_plain_clock() -> None:
    before = time.time()
    t = flyte.durable.time()
    assert before <= t <= time.time()
    assert isinstance(flyte.durable.now(), dt.datetime) and flyte.durable.now().tzinfo is None
    flyte.durable.sleep(0)


# --- checkpoints -----------------------------------------------------------------------------------


def test_checkpoint_round_trips_bytes_files_and_folders(tmp_path: Path) -> None:
    dest = str(tmp_path / "store" / "cp")
    assert Checkpoint(dest).load_sync() is None and not Checkpoint(dest).prev_exists()
    Checkpoint(dest).save_sync(b"\x00raw")
    first = Checkpoint(str(tmp_path / "next"), dest)  # its folder lives as long as the helper
    restored = first.load_sync()
    assert restored is not None and restored.name == "payload" and restored.read_bytes() == b"\x00raw"
    folder = tmp_path / "state"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "last.ckpt").write_text("epoch 3")
    (folder / "notes.txt").write_text("n")
    Checkpoint(dest).save_sync(folder)  # replaces the bytes
    cp = Checkpoint(str(tmp_path / "next"), dest)
    root = cp.load_sync()
    assert root == cp.path and (root / "notes.txt").read_text() == "n"
    found = latest_checkpoint(root)
    assert found is not None and found.read_text() == "epoch 3"
    assert latest_checkpoint(root, "**/*.missing") is None
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cp.save_sync(tmp_path / "nowhere")


def test_a_missing_previous_checkpoint_loads_as_none(tmp_path: Path) -> None:
    cp = Checkpoint(str(tmp_path / "cp"), str(tmp_path / "gone"))
    assert cp.prev_exists() and cp.load_sync() is None


# --- exception types -------------------------------------------------------------------------------


def test_rebuilt_exception_types_are_cached_and_picklable() -> None:
    cls = user_error_class(KeyError)
    assert cls is not None and cls is user_error_class(KeyError)
    e = cls("KeyError", "message", "a0.1")
    assert isinstance(e, KeyError) and isinstance(e, flyte.errors.RuntimeUserError) and str(e) == "message"
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cls and str(back) == "message" and back.worker == "a0.1"


def test_a_class_needing_other_arguments_is_still_rebuilt() -> None:
    info = ErrorInfo("NeedsTwo", "user", "NeedsTwo: 1/2", action="a0.1", exc_type=type_path(NeedsTwo))
    exc = to_exception(info, "env.t")
    assert isinstance(exc, NeedsTwo) and exc.code == "NeedsTwo" and "1/2" in str(exc)


@pytest.mark.parametrize("exc_type", [
    "not_imported_anywhere.module:Boom",  # its module is not loaded here: never imported on request
    "builtins:ExceptionGroup",  # its constructor cannot take a message
    "builtins:int",  # not an exception
    "tests.test_runtime_apis:f.<locals>.Local",
])
def test_types_that_cannot_be_rebuilt_fall_back_to_runtime_user_error(exc_type: str) -> None:
    name = exc_type.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
    exc = to_exception(ErrorInfo(name, "user", f"{name}: boom", exc_type=exc_type), "env.t")
    assert type(exc) is flyte.errors.RuntimeUserError and exc.code == name and "boom" in str(exc)


def test_find_class_only_looks_in_loaded_modules() -> None:
    assert find_class("builtins:ValueError") is ValueError
    assert find_class("tests.test_runtime_apis:NeedsTwo") is NeedsTwo
    assert find_class("flyte_core.errors.core:RuntimeUserError") is None  # already a flyte error
