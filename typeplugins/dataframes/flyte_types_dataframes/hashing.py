"""A write-only stream that hashes what passes through it, so a frame's content hash costs no
second pass over the data.

Big chunks are hashed on a helper thread while the caller goes on encoding and writing the next
ones (``hashlib`` and file writes both release the GIL), so on a machine with a spare core the
hash adds almost nothing to the write.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import IO, Any

#: The hash of every frame's bytes; changing it changes every literal's hash, so bump the wire version.
ALGORITHM = "sha256"
#: Chunks at least this big go to the hashing thread; smaller ones are hashed inline (cheaper than a hand-off).
THREAD_MIN_BYTES = 256 * 1024
#: How many chunks may wait for the hashing thread before the writer waits (bounds the memory held).
QUEUE_DEPTH = 8


class HashingWriter:
    """Wraps a binary file opened for writing; :meth:`hexdigest` is the hash of every byte written.

    Only what pyarrow's ``write_table`` needs of a sink is implemented: ``write``, ``tell``,
    ``flush``, ``closed`` and ``close`` (which leaves the wrapped file open: its owner closes it).
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._hash = hashlib.new(ALGORITHM)
        self._pos = 0
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # --- the sink --------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def writable(self) -> bool:
        """Always True: this is a sink."""
        return True

    def write(self, data: Any) -> int:
        """Hash ``data`` and write it to the wrapped file; return its length."""
        n = len(data)
        if self._thread is None and n >= THREAD_MIN_BYTES and isinstance(data, bytes):
            self._start_thread()
        if self._queue is not None:
            # Only immutable bytes may be hashed later: a reused buffer would change under the thread.
            self._queue.put(data if isinstance(data, bytes) else bytes(data))
        else:
            self._hash.update(data)
        self._raw.write(data)
        self._pos += n
        return n

    def tell(self) -> int:
        """Bytes written so far."""
        return self._pos

    def flush(self) -> None:
        """Flush the wrapped file."""
        self._raw.flush()

    def close(self) -> None:
        """Finish hashing; the wrapped file stays open."""
        self._finish()
        self._closed = True

    # --- the hash --------------------------------------------------------------------------------

    def hexdigest(self) -> str:
        """The hash of everything written (waits for the hashing thread)."""
        self._finish()
        return self._hash.hexdigest()

    def _start_thread(self) -> None:
        self._queue = queue.Queue(maxsize=QUEUE_DEPTH)
        self._thread = threading.Thread(target=self._drain, name="flyte-frame-hash", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            self._hash.update(chunk)

    def _finish(self) -> None:
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
            self._queue = None

    def __enter__(self) -> HashingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
