"""The pytest plugin flyte-core installs (entry point ``pytest11``): every test of every project that
has flyte-core installed runs against a temporary ``FLYTE_HOME``, so a test suite never writes runs,
cache entries or secrets into the user's own ``~/.flyte``; tests skipped by a fixture for one reason
(no cluster reachable, say) give one line of the skip summary, not one each; processes a test starts
can be interrupted with SIGINT however pytest itself was started; and fixtures for plugin authors.

Turn it off for a test session with ``pytest -p no:flyte_core``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from _pytest.reports import TestReport

from flyte_core.config.files import CONFIG_ENV, HOME_ENV
from flyte_core.plugins.manager import PluginSet
from flyte_core.run.session import Session
from flyte_core.testing.kit import HookRecorder, in_project, make_plugins, write_project


def pytest_configure(config: pytest.Config) -> None:
    """Give SIGINT its default handler when pytest was started with it ignored.

    A shell starts background commands (``cmd &`` without job control, ``nohup``) with SIGINT
    ignored, and an ignored signal stays ignored across ``exec``: every ``flyte run`` a test starts
    would then ignore the Ctrl-C the test sends it, and the test's result would depend on how the
    suite was launched. A handled signal is reset to the default by ``exec``, so the processes tests
    start get Python's usual KeyboardInterrupt, as they do from a terminal.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def _flyte_session_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A temporary ``FLYTE_HOME`` for session- and module-scoped fixtures (set before them)."""
    home = tmp_path_factory.mktemp("flyte-home")
    saved = {k: os.environ.get(k) for k in (HOME_ENV, CONFIG_ENV)}
    os.environ[HOME_ENV] = str(home)
    os.environ.pop(CONFIG_ENV, None)
    try:
        yield home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(autouse=True)
def flyte_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's own ``FLYTE_HOME`` (no config file from the environment): processes it starts,
    such as ``flyte run``, inherit it. The default session of ``flyte.run`` is closed afterwards."""
    import flyte_core.api.runs

    home = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(home))
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    yield home
    flyte_core.api.runs.reset()


@pytest.fixture
def flyte_session(tmp_path: Path) -> Iterator[Session]:
    """A session with its own data store and run store under a temporary folder."""
    s = Session(data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def flyte_plugins() -> PluginSet:
    """An isolated plugin manager: the core's built-ins only (add yours with ``.register(plugin)``);
    installed plugins are not loaded, so a test sees exactly the plugins it names."""
    return make_plugins()


@pytest.fixture
def hook_recorder(flyte_plugins: PluginSet) -> Iterator[HookRecorder]:
    """Records every hook call of :func:`flyte_plugins` (``recorder.calls``, ``recorder.named(hook)``)."""
    recorder = HookRecorder(flyte_plugins)
    try:
        yield recorder
    finally:
        recorder.close()


@pytest.fixture
def flyte_project(tmp_path: Path) -> Iterator[Path]:
    """A temporary project folder with a ``.flyte/config.yaml`` (the local backend, its stores inside
    the folder), made the current folder and ``$FLYTE_CONFIG`` for the test; add files with
    :func:`flyte_core.testing.write_project`."""
    root = tmp_path / "project"
    root.mkdir()
    write_project(root)
    with in_project(root):
        yield root


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, None]:
    """A skip raised while setting up a test (a session fixture finding no cluster) is reported where
    it was raised, on one line, rather than at each test: pytest's summary then folds the tests it
    skipped into one ``SKIPPED [N]`` line per reason."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not (isinstance(report, TestReport) and report.when == "setup" and report.skipped):
        return
    if call.excinfo is None or not isinstance(report.longrepr, tuple):
        return
    crash = call.excinfo._getreprcrash()
    if crash is None:
        return
    reason = " ".join(str(report.longrepr[2]).split())
    report.longrepr = (crash.path, crash.lineno, reason)
