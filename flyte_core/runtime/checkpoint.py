"""Intra-task checkpoints (Flyte 2's ``flyte.ctx().checkpoint``, ``flyte.Checkpoint``,
``flyte.latest_checkpoint``): state a long task saves as it goes, so a retry or a recovered run
resumes from it instead of starting over.

Each attempt saves to one object in the data store, ``<run_base_dir>/<action>/checkpoint-<attempt>``.
An attempt loads the latest checkpoint saved before it: the newest earlier attempt of the same
action that saved one, else the newest one of the same action in the run this run recovers (and
the runs that one recovered). Saving a folder stores a gzip tar of it; saving a file or bytes
stores them as they are. Loading unpacks a tar into :attr:`Checkpoint.path`, or puts a single
object at ``path / "payload"``. Everything goes through fsspec, so checkpoints live wherever the
data store does and every backend whose workers reach the data store keeps them.
"""

from __future__ import annotations

import abc
import os
import pathlib
import re
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from flyte_core.runtime.loans import writable

if TYPE_CHECKING:
    from flyte_core.runtime.context import TaskContext

#: The single file a non-tar checkpoint is restored as, under :attr:`Checkpoint.path`.
PAYLOAD = "payload"
_PATHS_KEY = "__flyte_checkpoint_paths__"
_ATTEMPT = re.compile(r"checkpoint-(\d+)$")


@attrs.frozen
class CheckpointPaths:
    """Where this attempt saves its checkpoint, and where the latest earlier one is (None: none)."""

    prev_checkpoint_path: str | None
    checkpoint_path: str | None


def checkpoint_url(run_base_dir: str, action: str, attempt: int) -> str:
    """Where ``attempt`` of ``action`` saves its checkpoint."""
    return f"{run_base_dir.rstrip('/')}/{action}/checkpoint-{attempt}"


def paths_for(ctx: TaskContext) -> CheckpointPaths:
    """The checkpoint paths of the attempt of ``ctx`` (looked up once per attempt)."""
    paths = ctx.data.get(_PATHS_KEY)
    if paths is None:
        dest = checkpoint_url(ctx.run_base_dir, ctx.action.name, ctx.attempt)
        prev = _latest_before(ctx.run_base_dir, ctx.action.name, ctx.attempt, ctx.recovered_run_dirs)
        paths = ctx.data[_PATHS_KEY] = CheckpointPaths(prev, dest)
    return paths


def _latest_before(run_dir: str, action: str, attempt: int, recovered: tuple[str, ...]) -> str | None:
    from fsspec.core import url_to_fs

    fs, _ = url_to_fs(run_dir)
    for earlier in range(attempt - 1, 0, -1):
        url = checkpoint_url(run_dir, action, earlier)
        if fs.exists(_path(url)):
            return url
    for prior in recovered:
        found = []
        for p in fs.glob(_path(f"{prior.rstrip('/')}/{action}") + "/checkpoint-*"):
            m = _ATTEMPT.search(str(p))
            if m:
                found.append(int(m.group(1)))
        if found:
            return checkpoint_url(prior, action, max(found))
    return None


def _path(url: str) -> str:
    from fsspec.core import url_to_fs

    return str(url_to_fs(url)[1])


def latest_checkpoint(root: pathlib.Path | str, glob_pattern: str = "**/last.ckpt", *,
                      key: Callable[[pathlib.Path], Any] | None = None) -> pathlib.Path | None:
    """The file under ``root`` matching ``glob_pattern`` that ranks highest by ``key`` (default:
    the newest modification time), or None when nothing matches."""
    matches = list(pathlib.Path(root).glob(glob_pattern))
    if not matches:
        return None
    return max(matches, key=key or (lambda p: p.stat().st_mtime))


def _extract(tar: tarfile.TarFile, target: pathlib.Path) -> None:
    """Unpack ``tar`` into ``target``, refusing members that would land outside it (Python's
    "data" filter where this Python has it; older 3.11 releases get the same check by hand)."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(target, filter="data")
        return
    root = target.resolve()
    for member in tar.getmembers():
        dest = (root / member.name).resolve()
        link = (dest.parent / member.linkname).resolve() if member.issym() or member.islnk() else dest
        if not (dest.is_relative_to(root) and link.is_relative_to(root)) or member.isdev():
            raise ValueError(f"Checkpoint archive member {member.name!r} would be written outside {root}.")
    tar.extractall(target)


class BaseCheckpoint(abc.ABC):
    """What a checkpoint helper offers: a local folder, and loading and saving (async and sync)."""

    @property
    @abc.abstractmethod
    def path(self) -> pathlib.Path:
        """The local folder checkpoint files are restored into and may be written in."""

    @abc.abstractmethod
    def prev_exists(self) -> bool:
        """True when an earlier checkpoint exists to load."""

    @abc.abstractmethod
    async def load(self) -> pathlib.Path | None:
        """Restore the earlier checkpoint (async tasks); see :meth:`load_sync`."""

    @abc.abstractmethod
    async def save(self, data: pathlib.Path | str | bytes) -> None:
        """Save a checkpoint (async tasks); see :meth:`save_sync`."""

    @abc.abstractmethod
    def load_sync(self) -> pathlib.Path | None:
        """Restore the earlier checkpoint into :attr:`path`."""

    @abc.abstractmethod
    def save_sync(self, data: pathlib.Path | str | bytes) -> None:
        """Save a checkpoint: a folder, a file, or bytes."""


class Checkpoint(BaseCheckpoint):
    """Loads the checkpoint at ``checkpoint_src`` (if any) and saves to ``checkpoint_dest``; both
    are data store URLs or local paths. ``flyte.ctx().checkpoint`` gives the running attempt's."""

    def __init__(self, checkpoint_dest: str, checkpoint_src: str | None = None) -> None:
        self._dest = checkpoint_dest
        src = checkpoint_src.strip().strip('"') if checkpoint_src else ""
        self._src = src or None
        self._dir: str | None = None
        self._restored: pathlib.Path | None = None
        self._loaded = False

    def __del__(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def remote_destination(self) -> str:
        """Where :meth:`save` writes."""
        return self._dest

    @property
    def remote_source(self) -> str | None:
        """Where :meth:`load` reads from (the latest earlier checkpoint), or None."""
        return self._src

    @property
    def path(self) -> pathlib.Path:
        """A private temporary folder for this attempt's checkpoint files (removed with the helper)."""
        if self._dir is None:
            self._dir = tempfile.mkdtemp(prefix="flyte-checkpoint-")
        return pathlib.Path(self._dir)

    def prev_exists(self) -> bool:
        return self._src is not None

    def load_sync(self) -> pathlib.Path | None:
        """Restore the earlier checkpoint: a saved folder is unpacked into :attr:`path` (returned);
        a saved file or bytes becomes ``path / "payload"`` (returned). None when there is none.
        Loading twice returns the first result without reading again."""
        if self._loaded or self._src is None:
            return self._restored
        import fsspec

        fd, tmp = tempfile.mkstemp(prefix="flyte-checkpoint-", suffix=".bin")
        os.close(fd)
        try:
            try:
                with fsspec.open(self._src, "rb") as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out)
            except FileNotFoundError:  # removed since it was found: as if there were none
                self._loaded = True
                return None
            target = self.path
            for child in target.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
            if tarfile.is_tarfile(tmp):
                with tarfile.open(tmp, "r:*") as tar:
                    _extract(tar, target)
                self._restored = target
            else:
                shutil.move(tmp, target / PAYLOAD)
                self._restored = target / PAYLOAD
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._loaded = True
        return self._restored

    def save_sync(self, data: pathlib.Path | str | bytes) -> None:
        """Save ``data`` as this attempt's checkpoint, replacing what it saved before: bytes and
        files as they are, a folder as a gzip tar of its contents."""
        if isinstance(data, bytes):
            self._write(lambda out: out.write(data))
            return
        src = pathlib.Path(data)
        if not src.exists():
            raise FileNotFoundError(f"Checkpoint source path does not exist: {src}")
        if src.is_dir():
            fd, tmp = tempfile.mkstemp(prefix="flyte-checkpoint-", suffix=".tar.gz")
            os.close(fd)
            try:
                with tarfile.open(tmp, "w:gz") as tar:
                    for child in sorted(src.iterdir()):
                        tar.add(child, arcname=child.name)
                with open(tmp, "rb") as f:
                    self._write(lambda out: shutil.copyfileobj(f, out))
            finally:
                os.unlink(tmp)
            return
        with open(src, "rb") as f:
            self._write(lambda out: shutil.copyfileobj(f, out))

    def _write(self, fill: Callable[[Any], object]) -> None:
        """Write the checkpoint object whole: to a temporary name beside it, then moved over it
        (an object store makes an object visible at close, so there it is written directly)."""
        from fsspec.core import url_to_fs

        fs, path = url_to_fs(writable(self._dest))
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        if "file" not in fs.protocol and "local" not in fs.protocol:
            with fs.open(path, "wb") as out:
                fill(out)
            return
        tmp = f"{path}.tmp"
        with fs.open(tmp, "wb") as out:
            fill(out)
        os.replace(tmp, path)

    async def load(self) -> pathlib.Path | None:
        """:meth:`load_sync` for async tasks (the transfer runs in a worker thread)."""
        import asyncio

        return await asyncio.to_thread(self.load_sync)

    async def save(self, data: pathlib.Path | str | bytes) -> None:
        """:meth:`save_sync` for async tasks (the transfer runs in a worker thread)."""
        import asyncio

        await asyncio.to_thread(self.save_sync, data)
