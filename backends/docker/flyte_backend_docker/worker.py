"""Runs inside a task container: unpack the run's code bundle, then run the attempt.

``python -m flyte_backend_docker.worker BUNDLE_URL CODE_DIR SPEC_PATH``; import-light on purpose,
since every container pays for its start-up.

While the attempt runs, the worker holds a connection to the run's controller open
(:func:`flyte_core.worker.channel_client.watch_controller`): when the controller dies (kill -9, OOM) or
drops the attempt (abort, timeout), the container stops itself at once, without waiting for
anyone to remove it.
"""

from __future__ import annotations

import json
import os
import sys
import threading

#: Exit status of a worker that stopped because its controller went away (as if killed).
LOST_EXIT = 137
_done = threading.Event()


def stop_when_controller_lost(spec_path: str) -> None:
    """Watch the controller named in the attempt's spec file; exit the process when it is gone."""
    with open(spec_path) as f:
        spec = json.load(f)
    if not (spec.get("channel_path") and spec.get("channel_token")):
        return
    from flyte_core.extend import watch_controller

    def lost(why: str) -> None:
        if _done.is_set():
            return  # the attempt is over: its outcome is written, the process is ending anyway
        print(f"flyte: stopping action {spec['action']}: {why}.", file=sys.stderr, flush=True)
        os._exit(LOST_EXIT)

    watch_controller(spec["channel_path"], spec["channel_token"], spec["action"], int(spec["attempt"]), lost)


def main(argv: list[str] | None = None) -> int:
    """Unpack the bundle into CODE_DIR (once per container) and run the entrypoint on SPEC_PATH."""
    args = sys.argv[1:] if argv is None else argv
    bundle, code_dir, spec_path = args
    stop_when_controller_lost(spec_path)
    # A marker, not the folder: the engine creates the working directory before we start.
    marker = os.path.join(code_dir, ".flyte-bundle")
    if bundle != "-" and not os.path.exists(marker):
        from pathlib import Path

        from flyte_core.extend import extract_bundle

        extract_bundle(bundle, Path(code_dir))
        with open(marker, "w") as f:
            f.write(bundle)
    from flyte_core.extend import worker_main as run_attempt

    try:
        return run_attempt([spec_path])
    finally:
        _done.set()


if __name__ == "__main__":
    sys.exit(main())
