"""Options of the ``local`` and ``local-process`` backends (``backends.<name>`` in the config file).

Checked with flyte-core's strict config schema when the backend is made: a wrong type or an unknown
key is a one-line error naming the key and the file, before anything runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from flyte_core.extend import at_least, structure


def _default_workers() -> int:
    return min(32, (os.cpu_count() or 1) * 4)


@attrs.frozen
class InProcessOptions:
    """``local``: ``max_workers`` sync task bodies at once; ``abort_grace`` seconds a sync body gets
    to stop after an abort before it is interrupted."""

    max_workers: int = attrs.field(factory=_default_workers, validator=at_least(1))
    abort_grace: float = attrs.field(default=5.0, validator=at_least(0))

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> InProcessOptions:
        """Options from a config mapping (unknown keys and wrong types are ConfigErrors)."""
        return structure(cls, raw, section="backends.local")


@attrs.frozen
class ProcessOptions:
    """``local-process``: ``max_workers`` worker processes at once; ``echo`` also prints what
    workers print."""

    max_workers: int = attrs.field(factory=_default_workers, validator=at_least(1))
    echo: bool = True

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> ProcessOptions:
        """Options from a config mapping (unknown keys and wrong types are ConfigErrors)."""
        return structure(cls, raw, section="backends.local-process")
