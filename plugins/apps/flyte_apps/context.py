"""``flyte.app.ctx()``: what a served app knows about where it runs."""

from __future__ import annotations

import os

import attrs

RAW_DATA_PATH_ENV = "_FLYTE_APP_RAW_DATA_PATH"


@attrs.frozen
class AppContext:
    """The serving mode ("local" for apps served by flyte-core), project, domain and raw data path."""

    mode: str = "remote"
    project: str = ""
    raw_data_path: str = ""
    domain: str = ""


def ctx() -> AppContext:
    """The current app context (read from the environment the serving process set)."""
    return AppContext(
        mode=os.getenv("_RUN_MODE", "remote"),
        project=os.getenv("FLYTE_INTERNAL_EXECUTION_PROJECT", ""),
        domain=os.getenv("FLYTE_INTERNAL_EXECUTION_DOMAIN", ""),
        raw_data_path=os.getenv(RAW_DATA_PATH_ENV, ""),
    )
