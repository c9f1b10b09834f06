"""Where local state lives (``$FLYTE_HOME``) and the environment variables naming it and the config
file: kept apart from the config file's reader so that code needing only the folder (secrets, the run
store's default path) does not import YAML and cattrs."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

CONFIG_ENV = "FLYTE_CONFIG"
HOME_ENV = "FLYTE_HOME"


def home_dir() -> str:
    """Where local state lives: ``$FLYTE_HOME`` or ``~/.flyte``, as a string. What a cached run
    passes through uses this one: importing pathlib is ~3 ms of a cold start."""
    return os.path.expanduser(os.environ.get(HOME_ENV) or os.path.join(os.path.expanduser("~"), ".flyte"))


def flyte_home() -> Path:
    """Where local state lives: ``$FLYTE_HOME`` or ``~/.flyte``."""
    from pathlib import Path

    return Path(home_dir())
