"""Runs inside a reusable (warm) task container: takes attempts one by one, in this process. A
standby container (a fresh container started before its call, docs/docker.md) runs it too and is
given one attempt only.

``python -m flyte_backend_docker.pool_worker CONTROL_SOCKET WORKER_ID BUNDLE_URL CODE_DIR``

The worker unpacks the run's code bundle once, connects to the pool's control socket on the host
(bind-mounted into the container) and says ``{"hello": WORKER_ID}``. Then, newline-delimited JSON:

- host -> worker ``{"run": ID, "spec": SPEC}``: run the attempt ID (``<action>-<attempt>``) whose
  :class:`~flyte_core.worker.entrypoint.WorkerSpec` is SPEC (its JSON object), in a thread of its own
  (the pool sends a second attempt before the first ended only to async tasks, up to the policy's
  ``concurrency``, or while the first waits for its children). With ``"borrow": true`` (a local
  data store) the attempt's store folders are not lent to the worker yet: the first time the
  attempt is about to write one, the worker asks for it and waits for the answer:
- worker -> host ``{"borrow": ID, "folder": "data"|"action"}``; host -> worker ``{"lent": ID,
  "folder": ...}`` once it is lent, with ``"error"`` when it could not be (the write fails with it);
- worker -> host ``{"log": ID, "stream": "stdout"|"stderr", "line": TEXT}``: a line the attempt
  printed (captured per attempt by :mod:`flyte_core.runtime.logcapture`; it also reaches the container's
  own output, which the pool quotes if the worker dies);
- worker -> host ``{"done": ID, "outcome": OUTCOME}`` when the attempt ended with an outcome (its JSON
  object); ``{"done": ID}`` when that outcome is too long for one message and was written to the
  spec's ``outcome_path`` (in the worker's own folder) instead; or ``{"done": ID, "exit": CODE}`` when
  the attempt ended without an outcome (``sys.exit`` in the task, a broken spec).

Spec and outcome travel on the connection, not as files: an attempt on a warm worker costs no
file of its own, and its channel token never touches a disk.

Modules stay imported between attempts: that is the point of a warm worker. The worker exits when
the host closes the connection; a timed-out or aborted attempt is stopped by killing the container.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import socket
import sys
import threading
from typing import Any

#: Longest line sent in one message; longer ones are cut in pieces (the host reads lines whole).
MAX_LINE = 32 * 1024
#: How long an attempt waits for the host to lend it a folder (a few file-system calls on its side).
BORROW_TIMEOUT = 120.0
#: Longest outcome sent in a message (the host reads messages up to 16 MiB); a longer one (a huge
#: error message) goes to the spec's outcome file.
MAX_INLINE_OUTCOME = 8 * 1024 * 1024


class Control:
    """The worker's end of the control connection: thread-safe sends, messages read in order."""

    def __init__(self, path: str) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(path)
        self._lock = threading.Lock()
        self._rfile = self._sock.makefile("rb")
        #: (attempt, folder) -> [answered, error]: borrowings waiting for the host's answer.
        self._asked: dict[tuple[str, str], tuple[threading.Event, list[str]]] = {}

    def borrow(self, aid: str, folder: str) -> None:
        """Ask the host to lend attempt ``aid``'s store ``folder`` and wait until it is (an OSError
        saying why when it cannot be)."""
        answered, error = self._asked[(aid, folder)] = (threading.Event(), [])
        try:
            self.send({"borrow": aid, "folder": folder})
            if not answered.wait(BORROW_TIMEOUT):
                raise OSError(f"the host did not lend the {folder} folder of attempt {aid} "
                              f"within {BORROW_TIMEOUT:.0f} s")
        finally:
            self._asked.pop((aid, folder), None)
        if error:
            raise OSError(f"the host could not lend the {folder} folder of attempt {aid}: {error[0]}")

    def answered(self, msg: dict[str, Any]) -> None:
        """The host's answer to :meth:`borrow` (ignored when nobody waits for it any more)."""
        waiting = self._asked.get((str(msg.get("lent")), str(msg.get("folder"))))
        if waiting is not None:
            if "error" in msg:
                waiting[1].append(str(msg["error"]))
            waiting[0].set()

    def send(self, msg: dict[str, Any]) -> None:
        """Send one message (whole: attempts in other threads send too)."""
        self.send_text(json.dumps(msg, separators=(",", ":")))

    def send_text(self, text: str) -> None:
        """Send one message already encoded as a line of JSON."""
        data = (text + "\n").encode()
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
        threads = Threads()
        for msg in control.messages():
            aid, spec = msg.get("run"), msg.get("spec")
            if isinstance(aid, str) and isinstance(spec, dict):
                threads.submit(run_attempt, control, aid, spec, msg.get("borrow") is True)
            elif "lent" in msg:
                control.answered(msg)
    return 0


class Threads:
    """Runs each job in a thread of its own at once, reusing threads that are done with earlier
    ones (starting a thread costs more than a trivial attempt). Never makes a job wait for a thread:
    an attempt waiting for its children must not hold up the next one."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Any, tuple[Any, ...]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    @property
    def idle(self) -> int:
        """How many threads wait for a job."""
        with self._lock:
            return self._idle

    def submit(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` in an idle thread, or a new one when none is idle."""
        with self._lock:
            reuse = self._idle > 0
            if reuse:
                self._idle -= 1  # that thread is this job's: the next submit will not count on it
        if reuse:
            self._jobs.put((fn, args))
        else:
            threading.Thread(target=self._serve, args=(fn, args), daemon=True, name="flyte-attempt").start()

    def _serve(self, fn: Any, args: tuple[Any, ...]) -> None:
        while True:
            fn(*args)
            with self._lock:
                self._idle += 1
            fn, args = self._jobs.get()


def run_attempt(control: Control, aid: str, data: dict[str, Any], borrow: bool = False) -> None:
    """Run attempt ``aid`` of spec ``data``, forwarding what it prints; then send its outcome. With
    ``borrow``, its store folders are asked for when it first writes one."""
    import traceback

    from flyte_core.extend import (
        LineSink,
        WorkerSpec,
        forget_loan,
        lend_on_write,
        outcome_to_json,
        output_sink,
        run_worker_attempt,
        worker_exit_code,
        write_outcome,
    )

    def forward(stream: str, line: str) -> None:
        for start in range(0, max(len(line), 1), MAX_LINE):
            control.send({"log": aid, "stream": stream, "line": line[start:start + MAX_LINE]})

    lines = LineSink(forward)
    reply: dict[str, Any] = {"done": aid}
    text: str | None = None
    folders: dict[str, str] = {}
    with output_sink(lines):
        try:
            spec = WorkerSpec.from_json(data)
            if borrow:  # as the attempt's own paths spell them (ConversionContext.prefix, output_path)
                folders = {"data": spec.data_prefix, "action": f"{spec.run_base_dir.rstrip('/')}/{spec.action}"}
                for folder, path in folders.items():
                    lend_on_write(path, functools.partial(control.borrow, aid, folder))
            _preload(spec)
            outcome = run_worker_attempt(spec)
            encoded = json.dumps(outcome_to_json(outcome), separators=(",", ":"))
            if len(encoded) > MAX_INLINE_OUTCOME:  # ASCII (json's default): its length is its size
                write_outcome(spec.outcome_path, outcome)
            else:
                text = encoded
        except SystemExit as e:  # sys.exit() in a task body: reported as the exit of a fresh container
            reply["exit"] = worker_exit_code(e)
        except BaseException:
            traceback.print_exc()  # into this attempt's log, where the host quotes it from
            reply["exit"] = 1
        finally:
            for path in folders.values():
                forget_loan(path)
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
    lines.flush()
    try:
        if text is not None:  # the outcome as it was encoded, not decoded and encoded again
            control.send_text(f'{{"done":{json.dumps(aid)},"outcome":{text}}}')
        else:
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
