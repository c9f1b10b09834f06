"""Both local backends pass flyte-core's backend conformance suite, with no test skipped."""

from __future__ import annotations

import pytest

from flyte_core.testing.backends import BackendSuite


class TestInProcess(BackendSuite):
    """The ``local`` backend: actions run in this process (threads and the event loop)."""

    backend = "local"


@pytest.mark.slow
class TestProcess(BackendSuite):
    """The ``local-process`` backend: every action attempt runs in its own worker process."""

    backend = "local-process"
    backend_options = {"echo": False}
