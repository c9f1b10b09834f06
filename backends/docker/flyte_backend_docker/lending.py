"""The folders a reusable (warm) worker container may write, and how its attempts' folders are lent to it.

A warm worker serves many attempts of its environment, but its mounts are fixed when its container
starts. So it mounts its run's folder of the data store **read-only** and writes only folders of its
own: ``<run>/.pool/<worker>`` in the store (where its attempts' store folders live while they are
lent) and a private folder beside the run's temporary files (its attempts' outcome files).

An attempt has two store folders: its offloaded values (``<run>/data/<action>-<attempt>``) and its
action's folder of checkpoints and report (``<run>/<action>``). Most attempts write neither, so
neither is lent up front: the first time an attempt is about to write one, its worker asks for it
(``flyte_core.runtime.loans``) and the controller *lends* it: the folder is made (or, for an
action's folder that earlier attempts filled, moved) inside the worker's own folder, and a symlink
at its usual place points there. The attempt writes through the usual paths, which is what its
outcome records. When the attempt ends the controller takes the folders back: the symlink goes and
the folder moves back to its place, out of the worker's reach (one left empty is removed instead);
a file the worker also linked from elsewhere in its folder is replaced by a copy, so the worker
cannot change it later. So a worker can write its running attempts' folders and the run's raw data
folder (as every task container can), never another action's data.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile

import attrs

from flyte_backend_docker.sandbox import give

#: The folder of a run's store folder that holds its workers' own folders.
POOL_DIR = ".pool"


@attrs.frozen
class WorkerFolders:
    """A warm worker's own writable folders: ``specs`` (its attempts' spec and outcome files) and
    ``data`` (its attempts' store folders while they run; None when the store is not local)."""

    specs: str
    data: str | None


@attrs.frozen
class Loan:
    """A store folder an attempt uses at ``place`` while it is really at ``held``, in its worker's folder."""

    place: str
    held: str


def worker_folders(tmp_dir: str, run_dir: str | None, worker: str, writer: tuple[int, int] | None) -> WorkerFolders:
    """Make the folders of warm worker ``worker`` (given to ``writer``, the container's user)."""
    specs = give(os.path.join(tmp_dir, f"pool-{worker}"), writer, 0o700)
    data = None
    if run_dir is not None:
        give(os.path.join(run_dir, POOL_DIR), None)
        data = give(os.path.join(run_dir, POOL_DIR, worker), writer)
    return WorkerFolders(specs, data)


def lend(paths: list[str], folders: WorkerFolders, run_dir: str, writer: tuple[int, int] | None) -> list[Loan]:
    """Lend the store folders ``paths`` (inside ``run_dir``) to the worker owning ``folders``.

    Written for few system calls: this runs for every attempt on a warm container, and most lend
    folders that do not exist yet (an action's first attempt): the worker's folder is made and
    linked, and only when something is already at the usual place is it looked at."""
    assert folders.data is not None
    loans = []
    for place in paths:
        rel = place[len(run_dir) + 1:] if place.startswith(run_dir + os.sep) else os.path.relpath(place, run_dir)
        held = os.path.join(folders.data, rel)
        _own_folder(held, writer)
        try:
            os.symlink(held, place)
        except FileNotFoundError:  # the place's parent, the first time
            os.makedirs(os.path.dirname(place), exist_ok=True)
            os.symlink(held, place)
        except FileExistsError:
            st = os.lstat(place)
            if stat.S_ISDIR(st.st_mode):  # an action's folder with earlier attempts' checkpoints
                os.rmdir(held)  # made just above, empty
                os.rename(place, held)
                give(held, writer)
            else:
                os.unlink(place)  # a link left by a controller that died mid-attempt
            os.symlink(held, place)
        loans.append(Loan(place, held))
    return loans


def _own_folder(path: str, writer: tuple[int, int] | None) -> None:
    """Make ``path`` (in a worker's folder) a real folder handed to ``writer``. Whatever the worker
    left there is never followed: a link planted in place of a future attempt's folder would
    otherwise have this (root) process hand its target over."""
    handed = writer is not None and writer != (os.geteuid(), os.getegid())
    try:
        try:
            os.mkdir(path, 0o755)
        except FileNotFoundError:  # its parents, the first time
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.mkdir(path, 0o755)
    except FileExistsError:
        pass
    else:  # new and ours: the common case, in as few system calls as it takes
        if handed:
            assert writer is not None
            os.chown(path, *writer, follow_symlinks=False)  # a link swapped in meanwhile is not followed
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o755:  # the umask left it as give() makes it
            return
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError:  # a link or a file: removed, not followed
        os.unlink(path)
        os.mkdir(path)
        fd = os.open(path, flags)
    try:
        if handed:
            assert writer is not None
            os.fchown(fd, *writer)
        os.fchmod(fd, 0o755)  # as give() makes it, whatever the umask
    finally:
        os.close(fd)


def reclaim(loans: list[Loan]) -> None:
    """Take lent folders back to their places, out of the worker's reach. A folder the attempt left
    empty (most are) is removed instead: nothing was written there, so nothing comes back."""
    for loan in loans:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            os.unlink(loan.place)  # our link (a folder there is not ours to remove: it stays)
        try:
            os.rmdir(loan.held)  # never follows a link: one the worker put there fails as not a folder
            continue
        except FileNotFoundError:
            continue  # gone: the attempt left nothing there
        except OSError as e:
            if e.errno != errno.ENOTEMPTY and e.errno != errno.EEXIST:
                os.unlink(loan.held)  # replaced by a link to elsewhere (or a file): nothing comes back
                continue
        os.rename(loan.held, loan.place)
        _unshare(loan.place)


def forget(folders: WorkerFolders) -> None:
    """Delete a removed worker's own folders (what it left there outside its attempts' folders)."""
    for folder in (folders.specs, folders.data):
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _unshare(tree: str) -> None:
    """Replace each file of ``tree`` that has another hard link (one the worker may have kept in its
    folder to write it later) by a copy of its own."""
    with os.scandir(tree) as entries:  # not os.walk: most trees are empty, and this runs per attempt
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                _unshare(entry.path)
            elif entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_nlink > 1:
                fd, tmp = tempfile.mkstemp(dir=tree, prefix=".unshare-")
                os.close(fd)
                shutil.copy2(entry.path, tmp)
                os.replace(tmp, entry.path)
