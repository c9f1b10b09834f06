"""Runs inside a task pod: unpack the code bundle, then run the attempt, keeping a stream-tagged
copy of what it prints.

``python -m flyte_backend_kubernetes.worker BUNDLE_URL CODE_DIR SPEC_PATH LOG_PATH``

SPEC_PATH and LOG_PATH are paths (hostPath data stores) or fsspec URLs (remote stores); a log
meant for a URL is kept in a local file and uploaded once the attempt is over. Once the outcome
and the log are written, the worker tells the controller over the channel (``finished``): the
pod's end reaches the API only at the kubelet's next relist, up to a second later.

The Kubernetes log API merges stdout and stderr into one stream, but a run's logs keep them
apart. So file descriptors 1 and 2 are replaced by pipes whose reader threads pass every byte on
to the container's real stdout/stderr (``kubectl logs`` shows the same as ever) and append each
line, tagged with its stream, to ``LOG_PATH`` (JSON lines, beside the outcome file). Subprocesses
and C code writing to the descriptors are captured too. If the worker dies before the file is
complete, the backend falls back to the pod's log.

Import-light (stdlib only before the entrypoint), since every pod pays for its start-up.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any


class _Tee:
    """Replaces one descriptor by a pipe; a thread copies it to the old descriptor and the log."""

    def __init__(self, fd: int, stream: str, log: _Log) -> None:
        self.fd, self.stream, self.log = fd, stream, log
        self.saved = os.dup(fd)
        read, write = os.pipe()
        os.dup2(write, fd)
        os.close(write)
        self._read = read
        self.thread = threading.Thread(target=self._pump, daemon=True, name=f"flyte-tee-{stream}")
        self.thread.start()

    def _pump(self) -> None:
        pending = b""
        while True:
            chunk = os.read(self._read, 65536)
            if not chunk:
                break
            _write_all(self.saved, chunk)
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                self.log.add(self.stream, line)
        if pending:
            self.log.add(self.stream, pending)
        os.close(self._read)

    def restore(self) -> None:
        """Put the original descriptor back (ending the pipe once no one else holds it)."""
        os.dup2(self.saved, self.fd)


class _Log:
    """The stream-tagged lines, appended as JSON lines (one write per line, so it stays whole)."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self._lock = threading.Lock()

    def add(self, stream: str, raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        data = (json.dumps({"s": stream, "l": text}) + "\n").encode()
        with self._lock:
            _write_all(self._fd, data)

    def close(self) -> None:
        os.close(self._fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except OSError:
            return  # nowhere to write (the reader went away): drop rather than hang the task
        view = view[n:]


def _unpack(bundle: str, code_dir: str) -> None:
    marker = os.path.join(code_dir, ".flyte-bundle")
    if bundle != "-" and not os.path.exists(marker):
        from pathlib import Path

        from flyte_core.extend import extract_bundle

        extract_bundle(bundle, Path(code_dir))
        with open(marker, "w") as f:
            f.write(bundle)


def main(argv: list[str] | None = None) -> int:
    """Tee the output, unpack the bundle and run the attempt; returns the exit status."""
    bundle, code_dir, spec_path, log_path = sys.argv[1:] if argv is None else argv
    local_log = os.path.join(code_dir, ".flyte-worker-log.jsonl") if "://" in log_path else log_path
    os.makedirs(code_dir, exist_ok=True)
    log = _Log(local_log)
    sys.stdout.flush()
    sys.stderr.flush()
    tees = [_Tee(1, "stdout", log), _Tee(2, "stderr", log)]
    code = 1
    spec: Any = None  # set once the outcome is written: only then may the controller be told
    try:
        _unpack(bundle, code_dir)
        from flyte_core.extend import WorkerSpec, write_outcome
        from flyte_core.extend import run_worker_attempt as run

        attempt = WorkerSpec.read(spec_path)
        _stop_when_controller_lost(attempt)
        outcome = run(attempt)
        _done.set()
        write_outcome(attempt.outcome_path, outcome)
        spec, code = attempt, 0
    except SystemExit as e:  # sys.exit() in a task body: no outcome; the backend reports the code
        from flyte_core.extend import worker_exit_code as exit_code

        code = exit_code(e)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            from flyte_core.extend import flush_worker_output as flush_output

            flush_output()
        except ImportError:  # flyte-core is broken in this image (the traceback above says so)
            pass
        for tee in tees:
            tee.restore()
        # Threads the task left running may still hold the pipes; do not wait for them forever.
        for tee in tees:
            tee.thread.join(5)
        log.close()
        if local_log != log_path:
            _upload(local_log, log_path)
    if spec is not None and spec.channel_path and spec.channel_token:
        from flyte_core.extend import tell_finished

        tell_finished(spec.channel_path, spec.channel_token, spec.action, spec.attempt)
    return code


#: Exit status of a worker that stopped because its controller went away (as if killed).
LOST_EXIT = 137
_done = threading.Event()


def _stop_when_controller_lost(spec: Any) -> None:
    """Hold a connection to the run's controller; when the controller dies (a driver killed with -9,
    its node lost: TCP keepalive notices within seconds) or drops this attempt (abort), exit at
    once so the pod ends without anyone deleting it."""
    if not (spec.channel_path and spec.channel_token):
        return
    from flyte_core.extend import watch_controller

    def lost(why: str) -> None:
        if not _done.is_set():
            print(f"flyte worker: stopping action {spec.action}: {why}.", file=sys.stderr, flush=True)
            os._exit(LOST_EXIT)

    watch_controller(spec.channel_path, spec.channel_token, spec.action, spec.attempt, lost)


def _upload(path: str, url: str) -> None:
    try:
        import fsspec

        with open(path, "rb") as src, fsspec.open(url, "wb") as dst:
            dst.write(src.read())
    except Exception as e:  # the backend falls back to the pod's log; say why in it
        print(f"flyte worker: could not upload the log to {url}: {e}", file=sys.stderr)


if __name__ == "__main__":
    # As the entrypoint does: once the outcome is written the action is over; exit now instead of
    # waiting for threads the task left running.
    os._exit(main())
