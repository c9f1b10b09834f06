"""Runs inside a reusable (warm) task container: takes attempts one by one, in this process.

``python -m flyte_backend_docker.pool_worker CONTROL_SOCKET WORKER_ID BUNDLE_URL CODE_DIR``

The worker unpacks the run's code bundle once, connects to the pool's control socket on the host
(bind-mounted into the container) and says ``{"hello": WORKER_ID}``. Then, newline-delimited JSON:

- host -> worker ``{"spec": PATH}``: run the attempt whose :class:`~flyte_core.worker.entrypoint.WorkerSpec`
  is at PATH, in a thread of its own (the pool sends a second attempt before the first ended only
  to async tasks, up to the policy's ``concurrency``, or while the first waits for its children);
- worker -> host ``{"log": PATH, "stream": "stdout"|"stderr", "line": TEXT}``: a line the attempt
  printed (captured per attempt by :mod:`flyte_core.runtime.logcapture`; it also reaches the container's
  own output, which the pool quotes if the worker dies);
- worker -> host ``{"done": PATH}`` once the outcome file is written, or ``{"done": PATH, "exit":
  CODE}`` when the attempt ended without an outcome (``sys.exit`` in the task, a broken spec).

Modules stay imported between attempts: that is the point of a warm worker. The worker exits when
the host closes the connection; a timed-out or aborted attempt is stopped by killing the container.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from typing import Any

#: Longest line sent in one message; longer ones are cut in pieces (the host reads lines whole).
MAX_LINE = 32 * 1024


class Control:
    """The worker's end of the control connection: thread-safe sends, messages read in order."""

    def __init__(self, path: str) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)
        self._lock = threading.Lock()
        self._rfile = self._sock.makefile("rb")

    def send(self, msg: dict[str, Any]) -> None:
        """Send one message (whole: attempts in other threads send too)."""
        data = (json.dumps(msg, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self._sock.sendall(data)

    def messages(self) -> Any:
        """The host's messages until it closes the connection."""
        for line in self._rfile:
            msg = json.loads(line)
            if isinstance(msg, dict):
                yield msg


def main(argv: list[str] | None = None) -> int:
    """Unpack the bundle, connect, and run every attempt the host sends until it hangs up."""
    control_path, worker_id, bundle, code_dir = sys.argv[1:] if argv is None else argv
    _unpack(bundle, code_dir)
    from flyte_core.extend import capture_output

    control = Control(control_path)
    control.send({"hello": worker_id})
    with capture_output():
        for msg in control.messages():
            path = msg.get("spec")
            if isinstance(path, str):
                threading.Thread(target=run_attempt, args=(control, path), daemon=True,
                                 name=f"flyte-attempt-{os.path.basename(path)}").start()
    return 0


def run_attempt(control: Control, path: str) -> None:
    """Run the attempt whose spec is at ``path``, forwarding what it prints; then say it is done."""
    import traceback

    from flyte_core.extend import LineSink, WorkerSpec, output_sink, run_worker_attempt, worker_exit_code, write_outcome

    def forward(stream: str, line: str) -> None:
        for start in range(0, max(len(line), 1), MAX_LINE):
            control.send({"log": path, "stream": stream, "line": line[start:start + MAX_LINE]})

    lines = LineSink(forward)
    reply: dict[str, Any] = {"done": path}
    with output_sink(lines):
        try:
            spec = WorkerSpec.read(path)
            _preload(spec)
            write_outcome(spec.outcome_path, run_worker_attempt(spec))
        except SystemExit as e:  # sys.exit() in a task body: reported as the exit of a fresh container
            reply["exit"] = worker_exit_code(e)
        except BaseException:
            traceback.print_exc()  # into this attempt's log, where the host quotes it from
            reply["exit"] = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
    lines.flush()
    try:
        control.send(reply)
    except OSError:
        pass  # the host went away: the main loop ends too


_loading = threading.Lock()


def _preload(spec: Any) -> None:
    """Import the task's module under a lock before the attempt runs.

    ``find_task`` takes a module from ``sys.modules`` as it finds it; with attempts in
    several threads, one could find the module another is still executing (without its tasks
    yet). Loading it here, one thread at a time, hands every attempt a complete module.
    """
    if spec.task.module == "__main__":
        return  # the entrypoint loads scripts itself, under their alias
    from flyte_core.extend import find_task

    with _loading:
        try:
            find_task(spec.task, spec.code_root)
        except Exception:
            pass  # the attempt reports it, as a ModuleLoadError with the import's traceback


def _unpack(bundle: str, code_dir: str) -> None:
    """Extract the run's code bundle into ``code_dir`` once per container (as worker.py does)."""
    # A marker, not the folder: the engine creates the working directory before we start.
    marker = os.path.join(code_dir, ".flyte-bundle")
    if bundle == "-" or os.path.exists(marker):
        return
    from pathlib import Path

    from flyte_core.extend import extract_bundle

    extract_bundle(bundle, Path(code_dir))
    with open(marker, "w") as f:
        f.write(bundle)


if __name__ == "__main__":
    try:
        code = main()
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    from flyte_core.extend import flush_worker_output as flush_output

    flush_output()
    # Attempts may still run in daemon threads (the host hung up at the end of the run): go now.
    os._exit(code)
