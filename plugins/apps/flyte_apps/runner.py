"""The process of an app served by its ``@app_env.server`` function:
``python -m flyte_apps.runner FILE APP_NAME``.

Imports FILE (not as ``__main__``, so its ``if __name__ == "__main__":`` block stays out), finds the
AppEnvironment named APP_NAME, then runs its on_startup, server and on_shutdown functions with the
app's parameters bound by name. SIGTERM (how an app is stopped) ends the server like Ctrl-C does, so
on_shutdown still runs.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flyte_apps.environment import AppEnvironment
from flyte_apps.parameters import RUNTIME_PARAMETERS_FILE
from flyte_core.extend import CodeLoadError, load_file


def find_app(file: str, name: str) -> AppEnvironment:
    """The module-level AppEnvironment named ``name`` in ``file``."""
    path = Path(file)
    cwd = Path.cwd().resolve()
    root = cwd if path.resolve().is_relative_to(cwd) else path.resolve().parent
    module = load_file(path, root)
    for value in vars(module).values():
        if isinstance(value, AppEnvironment) and value.name == name:
            return value
    raise CodeLoadError(f"File '{file}' has no module-level AppEnvironment named '{name}'; define the app at "
                        "module level so its process can import it.")


def _call(fn: Callable[..., Any] | None, params: dict[str, str]) -> None:
    if fn is None:
        return
    wanted = inspect.signature(fn).parameters
    kwargs = {k: v for k, v in params.items() if k in wanted}
    result = fn(**kwargs)
    if inspect.isawaitable(result):
        asyncio.run(_await(result))


async def _await(awaitable: Any) -> None:
    await awaitable


def main(argv: list[str]) -> int:
    """Serve the app; the exit code is 0 when it was stopped, 2 when it could not start."""
    if len(argv) != 2:
        print("usage: python -m flyte_apps.runner FILE APP_NAME", file=sys.stderr)
        return 2
    try:
        app = find_app(argv[0], argv[1])
    except CodeLoadError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    path = os.environ.get(RUNTIME_PARAMETERS_FILE)
    params: dict[str, str] = json.loads(Path(path).read_text()) if path else {}
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop = KeyboardInterrupt in the server
    try:
        _call(app._on_startup, params)
        _call(app._server, params)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _call(app._on_shutdown, params)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
