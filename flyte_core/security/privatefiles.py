"""Files and folders only their owner may read: FLYTE_HOME, the run store, the secret store.

Created with the right mode from the start (never created open, then narrowed) and tightened when
they already exist with a wider one, since an earlier version or a careless ``cp`` may have left
them readable by others.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import TypeVar

#: A path as the caller gave it (a string or a ``pathlib.Path``), returned as it was given.
P = TypeVar("P", bound="str | os.PathLike[str]")


def private_dir(path: P) -> P:
    """Create ``path`` (and parents) with mode 0700, or tighten it to 0700 if we own it."""
    os.makedirs(path, mode=0o700, exist_ok=True)  # the mode is the new leaf's, as for Path.mkdir
    _tighten(path, 0o700)
    return path


def private_file(path: P) -> P:
    """Create ``path`` empty with mode 0600 if missing, or tighten it to 0600 if we own it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _tighten(path, 0o600)
    return path


def write_private(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` atomically with ``data``, mode 0600 whatever was there before.

    The temporary file is made by :func:`tempfile.mkstemp` (always 0600, a fresh name), so a
    leftover from an interrupted write can never lend its mode to the new file.
    """
    import tempfile  # deferred: it imports random, whose seeding costs at start-up

    folder, name = os.path.split(os.fspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _tighten(path: str | os.PathLike[str], mode: int) -> None:
    st = os.stat(path)
    if stat.S_IMODE(st.st_mode) & ~mode and st.st_uid == os.getuid():
        os.chmod(path, mode)
