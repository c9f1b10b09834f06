"""``flyte.logger``: the logger task code writes to (``flyte.user``), captured per action."""

from __future__ import annotations

import logging
import sys
from typing import Any

from flyte_core.runtime.logcapture import SinkHandler


class _StderrNow:
    """Writes to whatever ``sys.stderr`` is at the time (so per-action capture sees it)."""

    def write(self, text: str) -> Any:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _make_logger() -> logging.Logger:
    lg = logging.getLogger("flyte.user")
    if not lg.handlers:
        h = logging.StreamHandler(_StderrNow())
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        lg.addHandler(h)
        lg.setLevel(logging.INFO)
        lg.propagate = False
    return lg


#: The user logger (Flyte 2's ``flyte.logger``); its lines also land in the action's logs.
logger = _make_logger()
_ = SinkHandler  # re-exported for embedders who want action-routed logs on their own loggers
