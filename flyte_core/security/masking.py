"""Masking of secret values in what a run records: logs, error messages and tracebacks.

Every value a secret provider hands out in this process (``flyte_core.security.secrets.secret_value``) is
remembered here; the recorder replaces each occurrence with ``***`` before a log line or an error
reaches the run store, the terminal or an observer, as CI systems do. Values shorter than
:data:`MIN_LENGTH` are not masked: hiding every "1" or "yes" would make logs unreadable and protect
nothing.
"""

from __future__ import annotations

import re
import threading

#: Shortest secret value that is masked.
MIN_LENGTH = 4
MASK = "***"


class SecretMask:
    """A set of secret values and the substitution that hides them."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        """Mask ``value`` (and each of its lines, as a multi-line secret is logged line by line) from now on."""
        new = {v for v in (value, *value.splitlines()) if len(v.strip()) >= MIN_LENGTH}
        with self._lock:
            if new <= self._values:
                return
            self._values |= new
            # Longest first, so a secret containing another is hidden whole.
            alternatives = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))

    def __call__(self, text: str) -> str:
        """``text`` with every known secret value replaced by ``***``."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def clear(self) -> None:
        """Forget every value (tests)."""
        with self._lock:
            self._values.clear()
            self._pattern = None


#: The process's mask: filled by secret providers' answers, applied by the recorder.
mask = SecretMask()
