"""Where local state lives (``$FLYTE_HOME``) and the environment variables naming it and the config
file: kept apart from the config file's reader so that code needing only the folder (secrets, the run
store's default path) does not import YAML and cattrs."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "FLYTE_CONFIG"
HOME_ENV = "FLYTE_HOME"


def flyte_home() -> Path:
    """Where local state lives: ``$FLYTE_HOME`` or ``~/.flyte``."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".flyte").expanduser()
