"""Captures what task bodies print or log in this process, per action.

Python has one ``sys.stdout`` per process, so while any run is active a thin proxy sits in front
of it: text written under an active sink (a context variable set by the backend around a task
body) goes to that action's log and still passes through to the real stream. Outside a task body
the proxy only passes text through. The proxy is removed when the last run ends.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

Sink = Callable[[str, str], None]

_sink: contextvars.ContextVar[Sink | None] = contextvars.ContextVar("flyte_log_sink", default=None)
_lock = threading.Lock()
_users = 0
_saved: tuple[TextIO, TextIO] | None = None


class _Proxy:
    """A text stream that copies writes to the current sink, then to the wrapped stream."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream = stream
        self._name = name

    def write(self, text: str) -> int:
        sink = _sink.get()
        if sink is not None and text:
            sink(self._name, text)
        return self._stream.write(text)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._stream, attr)


@contextmanager
def installed() -> Iterator[None]:
    """Keep the proxies on ``sys.stdout``/``sys.stderr`` for the duration of a run."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = (sys.stdout, sys.stderr)
            sys.stdout = _Proxy(sys.stdout, "stdout")
            sys.stderr = _Proxy(sys.stderr, "stderr")
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None:
                # Only undo our own proxies (someone may have replaced them meanwhile).
                if isinstance(sys.stdout, _Proxy):
                    sys.stdout = _saved[0]
                if isinstance(sys.stderr, _Proxy):
                    sys.stderr = _saved[1]
                _saved = None


class sink:  # a function to its callers: `with sink(fn):`
    """Route output written in this context (thread or task) to ``fn(stream, text)``.

    A class rather than a generator context manager: it is entered around every task body."""

    __slots__ = ("_fn", "_token")

    def __init__(self, fn: Sink | None) -> None:
        self._fn = fn

    def __enter__(self) -> None:
        self._token = _sink.set(self._fn)

    def __exit__(self, *exc: object) -> None:
        _sink.reset(self._token)


class LineSink:
    """Collects text per stream and passes on whole lines to ``fn(stream, line)``; call
    :meth:`flush` when the task body ends to pass on an unterminated last line."""

    def __init__(self, fn: Sink) -> None:
        self._fn = fn
        self._parts: dict[str, str] = {}

    def __call__(self, stream: str, text: str) -> None:
        buf = self._parts.get(stream, "") + text
        if "\n" in buf:
            *lines, buf = buf.split("\n")
            for line in lines:
                self._fn(stream, line)
        self._parts[stream] = buf

    def flush(self) -> None:
        """Pass on whatever is left without a newline."""
        for stream, buf in self._parts.items():
            if buf:
                self._fn(stream, buf)
        self._parts.clear()


def current_sink() -> Sink | None:
    """The sink active in this context, if any."""
    return _sink.get()


class SinkHandler(logging.Handler):
    """Sends log records emitted inside a task body to that action's log."""

    def emit(self, record: logging.LogRecord) -> None:
        fn = _sink.get()
        if fn is not None:
            try:
                fn("log", self.format(record))
            except Exception:
                self.handleError(record)
