"""The per-task settings part of the backend conformance suite (:class:`SettingsTests`, a base of
:class:`~flyte_core.testing.backends.BackendSuite`): retries and timeouts act, and every setting
``task.override(...)`` accepts reaches the task, called from the test or from a task body, or the run
says the backend does not act on it.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any, ClassVar

import pytest

from flyte_core.errors.core import RuntimeUserError, TaskTimeoutError
from flyte_core.run.handle import Run
from flyte_core.run.session import Session
from flyte_core.runstore.records import Phase
from flyte_core.task.template import TaskTemplate
from flyte_core.testing.inspection import by_action


class SettingsTests:
    """Conformance tests of retries, timeouts and ``task.override(...)``; :class:`BackendSuite` provides
    :meth:`run`, :attr:`timeout_limit` and the ``session`` and ``tasks`` fixtures."""

    #: Seconds within which a task past its 2 s timeout must be stopped (see BackendSuite).
    timeout_limit: ClassVar[float]

    def run(self, session: Session, task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> Run:
        """Run ``task`` and check nothing is left behind (see :meth:`BackendSuite.run`)."""
        raise NotImplementedError

    def test_retry_succeeds_on_the_second_attempt(self, session: Session, tasks: ModuleType) -> None:
        """A task failing on attempt 1 (``flyte.ctx().attempt``) and passing on attempt 2 succeeds."""
        run = self.run(session, tasks.flaky)
        assert run.outputs()[0] == 2
        (action,) = run.actions()
        assert action.attempts == 2 and action.phase is Phase.SUCCEEDED

    def test_timeout_of_a_sync_task(self, session: Session, tasks: ModuleType) -> None:
        """A sync task running past ``timeout=2`` is stopped: TaskTimeoutError, phase timed_out."""
        self._check_timeout(session, tasks.sleeps)

    def test_timeout_of_an_async_task(self, session: Session, tasks: ModuleType) -> None:
        """An async task running past ``timeout=2`` is stopped: TaskTimeoutError, phase timed_out."""
        self._check_timeout(session, tasks.async_sleeps)

    def _check_timeout(self, session: Session, task: TaskTemplate[Any, Any]) -> None:
        start = time.monotonic()
        with pytest.raises(TaskTimeoutError) as ei:
            self.run(session, task, seconds=60.0)
        elapsed = time.monotonic() - start
        assert elapsed < self.timeout_limit, f"a 2s timeout took {elapsed:.1f}s to stop the task"
        assert ei.value.code == "TaskTimeoutError"
        run: Run = ei.value.run  # type: ignore[attr-defined]
        assert run.phase is Phase.TIMED_OUT
        assert [(a.action, a.phase) for a in run.actions()] == [("a0", Phase.TIMED_OUT)]

    def provide_secret(self, request: pytest.FixtureRequest, key: str, value: str) -> None:
        """Make secret ``key`` (no group) hold ``value`` for this test's runs. By default through the
        caller's ``FLYTE_SECRET_<KEY>`` variable, which the session's secret providers read; override
        for a backend that reads secrets elsewhere (a cluster's Secrets), removing it at the end with
        ``request.addfinalizer``."""
        monkeypatch = pytest.MonkeyPatch()
        monkeypatch.setenv("FLYTE_SECRET_" + key.upper().replace("-", "_"), value)
        request.addfinalizer(monkeypatch.undo)

    def test_override_env_vars_and_secrets(self, session: Session, tasks: ModuleType,
                                           request: pytest.FixtureRequest) -> None:
        """``override(env_vars=..., secrets=...)`` reach the task, called from here or from a task
        body (when the backend honours them; otherwise the run says it does not)."""
        self.provide_secret(request, "conformance-token", "t0ken")
        honours = session.make_backend().honours
        top = self.run(session, tasks.read_env.override(env_vars={"CONFORMANCE_OVERRIDE": "top"}),
                       "CONFORMANCE_OVERRIDE")
        run = self.run(session, tasks.overrides_inside)
        env_value, secret_value, slept = run.outputs()[0]
        assert slept == "woke", "override(timeout=60) of a task with timeout=2 must let it run 3s"
        if "env_vars" in honours:
            assert (top.outputs()[0], env_value) == ("top", "inner")
        else:
            assert any("'env_vars'" in n for n in top.notices) and any("'env_vars'" in n for n in run.notices)
        if "secrets" in honours:
            assert secret_value == "t0ken"
        else:
            assert any("'secrets'" in n for n in run.notices), run.notices

    def test_override_retries(self, session: Session, tasks: ModuleType) -> None:
        """``override(retries=0)`` of a task with ``retries=1``: one attempt, and it fails."""
        with pytest.raises(RuntimeUserError, match="attempt 1 fails") as ei:
            self.run(session, tasks.retries_overridden_inside)
        run: Run = ei.value.run  # type: ignore[attr-defined]
        child = by_action(run)["a0.1"]
        assert child.attempts == 1 and child.phase is Phase.FAILED

    def test_override_cache(self, session: Session, tasks: ModuleType) -> None:
        """``override(cache="auto")``: the second identical call is a cache hit."""
        run = self.run(session, tasks.cache_overridden_inside)
        actions = by_action(run)
        assert [actions["a0.1"].cache_hit, actions["a0.2"].cache_hit] == [False, True]

    def test_override_resources(self, session: Session, tasks: ModuleType) -> None:
        """``override(resources=Resources(memory="300Mi"))`` is the task's memory limit (cgroups), from
        here and from a task body; a backend that does not act on resources says so."""
        honours = session.make_backend().honours
        top = self.run(session, tasks.memory_limit.override(resources=flyte_resources(memory="300Mi")))
        inner = self.run(session, tasks.memory_overridden_inside)
        if "resources" in honours:
            assert top.outputs()[0] == inner.outputs()[0] == str(300 * 1024 * 1024)
        else:
            assert any("'resources'" in n for n in top.notices + inner.notices), top.notices + inner.notices



def flyte_resources(**kw: Any) -> Any:
    """``flyte.Resources(**kw)`` (imported late: the suite's module imports no ``flyte`` at load)."""
    from flyte_core.task.settings import Resources

    return Resources(**kw)
