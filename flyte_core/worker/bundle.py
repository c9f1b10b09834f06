"""Content-addressed code bundles: the user's project as a deterministic tar.gz in the data store.

Code reaches containers as a bundle, not baked into images, so editing a task does not rebuild
anything: the bundle is named by the sha256 of its bytes (``bundles/<sha256>.tar.gz``), uploaded
once, and unpacked by each container with :func:`extract_bundle`.

What goes in: the files git would track (tracked plus untracked-but-not-ignored) when the root is in
a git work tree, else every file minus the root ``.gitignore`` patterns; then always minus the
root ``.flyteignore`` patterns and the usual caches (``.git/``, ``__pycache__/``, ``.nox/``,
``.venv/``, ``*.pyc``). Files that look like credentials (:data:`CREDENTIAL_FILES`: ``.env``,
private keys, ``.netrc``, cloud credential files) are left out even when git tracks them, with a
warning naming them; a ``!pattern`` line in ``.flyteignore`` ships one on purpose.

Import-light on purpose (stdlib and fsspec only at import time): containers import this module to
unpack their code before anything else runs.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from flyte_core.errors.core import FlyteUsageError

if TYPE_CHECKING:
    from flyte_core.storage.datastore import DataStore

#: Bundles over this many bytes (of file content, before compression) are refused.
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
#: Never bundled: version control, caches, virtual environments, bytecode.
ALWAYS_SKIP = (".git/", "__pycache__/", ".nox/", ".venv/", "*.pyc")
#: Never bundled unless ``.flyteignore`` re-includes them (``!.env``): files that usually hold
#: credentials. Every container of a run mounts the bundle, so a secret in it reaches every task.
CREDENTIAL_FILES = (
    ".env", ".env.*", "!.env.example", "!.env.sample", "!.env.template", "*.pem", "*.key", "*.p12", "*.pfx",
    "*.keystore", "*.jks", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "!*.pub", ".netrc", ".pgpass",
    ".pypirc", ".npmrc", ".git-credentials", ".htpasswd", ".ssh/", ".aws/", ".gnupg/", ".docker/config.json",
    ".kube/config", "*credentials*.json", "*service-account*.json", "*.tfstate", "*.tfvars",
)
#: Gitignore-style patterns of files to leave out of bundles, read from the project root.
IGNORE_FILE = ".flyteignore"
_NAME = re.compile(r"(?:^|/)([0-9a-f]{64})\.tar\.gz$")
_CHUNK = 1 << 20


class BundleError(FlyteUsageError):
    """A project that cannot be bundled (too big, unreadable) or a bundle that cannot be unpacked."""


def bundle_files(root: Path, exclude: Iterable[str | Path] = ()) -> list[str]:
    """The files (relative POSIX paths, sorted) a bundle of ``root`` holds; nothing under the
    ``exclude`` folders (such as a data store or run store inside the project) and no ``.flyte/``."""
    root = Path(root)
    skipped = [".flyte/"]
    for ex in exclude:
        text = str(ex)
        if "://" in text and not text.startswith("file://"):
            continue
        try:
            inner = Path(text.removeprefix("file://")).resolve().relative_to(root.resolve())
        except ValueError:
            continue
        if inner.parts:
            skipped.append("/" + inner.as_posix() + ("/" if (root / inner).is_dir() else ""))
    user_lines = _ignore_lines(root / IGNORE_FILE)
    # Credential patterns first, so a "!pattern" of the user's .flyteignore can re-include a file.
    skip = _spec(list(CREDENTIAL_FILES) + user_lines + list(ALWAYS_SKIP) + skipped)
    credentials = _spec(list(CREDENTIAL_FILES))
    # The excluded folders (a run store and data store in the project hold every run's data) are
    # never walked nor listed, not only left out: listing them cost seconds per run.
    listed = _git_files(root, skipped)
    if listed is None:
        candidates = _walk(root, _spec(_ignore_lines(root / ".gitignore") + list(ALWAYS_SKIP) + skipped))
    else:
        candidates = listed
    out = []
    withheld = []
    for rel in candidates:
        path = root / rel
        # Submodules and files deleted since the last commit are listed by git but are no files.
        if not (path.is_file() or path.is_symlink()) or path.is_dir():
            continue
        if skip.match_file(rel):
            if credentials.match_file(rel):
                withheld.append(rel)
            continue
        out.append(rel)
    if withheld:
        import logging  # only the host bundles; a worker, which extracts, never logs here

        logging.getLogger("flyte").warning(
            "Left out of the code bundle because they look like credentials: %s. Tasks get secrets through "
            "flyte.Secret; to ship one of these files anyway, add '!<path>' to %s.",
            ", ".join(sorted(set(withheld))), root / IGNORE_FILE)
    return sorted(set(out))


def make_bundle(root: Path, store: DataStore, max_bytes: int = DEFAULT_MAX_BYTES,
                exclude: Iterable[str | Path] = ()) -> str:
    """Bundle ``root`` into ``store`` at ``bundles/<sha256>.tar.gz`` (skipped if already there);
    return the bundle's URL.

    Raises :class:`BundleError` naming the biggest files when the content exceeds ``max_bytes``.
    """
    root = Path(root).resolve()
    files = bundle_files(root, exclude)
    _check_size(root, files, max_bytes)
    with tempfile.TemporaryDirectory(prefix="flyte-bundle-") as tmp:
        archive = Path(tmp) / "bundle.tar.gz"
        digest = _write_archive(root, files, archive)
        rel = f"bundles/{digest}.tar.gz"
        if not store.exists(rel):
            _upload(store, archive, rel)
    return store.url(rel)


def extract_bundle(url: str, dest: Path, **storage_options: Any) -> None:
    """Unpack the bundle at ``url`` (any fsspec URL or path) into ``dest``.

    The archive's sha256 is checked against its name when it has the ``<sha256>.tar.gz`` form, so a
    truncated upload fails loudly instead of running half a project.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as local:
        h = hashlib.sha256()
        with _open(url, storage_options) as remote:
            for block in iter(lambda: remote.read(_CHUNK), b""):
                h.update(block)
                local.write(block)
        expected = _NAME.search(url)
        if expected and expected.group(1) != h.hexdigest():
            raise BundleError(
                f"Code bundle {url} is corrupt (its sha256 is {h.hexdigest()}); delete it and run again."
            )
        local.seek(0)
        with tarfile.open(fileobj=local, mode="r:gz") as tar:
            members = [_safe_member(m, dest, url) for m in tar.getmembers()]
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4; Debian bookworm ships 3.11.2
                tar.extractall(dest, members, filter="data")
            else:
                tar.extractall(dest, members)


# --- selecting files -------------------------------------------------------------------------------


def _spec(lines: list[str]) -> Any:
    import pathspec  # only the host bundles; containers never need it

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignore_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []
    except OSError as e:
        raise BundleError(f"Cannot read {path}: {e}; fix its permissions or remove it.") from e


def _git_files(root: Path, excluded: Iterable[str] = ()) -> list[str] | None:
    """What git would track under ``root``, less what the ``excluded`` gitignore-style patterns of
    files and folders (``/`` first: at the root only) match, or None when ``root`` is in no work
    tree (or no git)."""
    pathspecs = []
    for pattern in excluded:
        glob = pattern.strip("/") if pattern.startswith("/") else f"**/{pattern.strip('/')}"
        pathspecs += [f":(exclude,glob){glob}", f":(exclude,glob){glob}/**"]
    import subprocess  # only the host bundles: a task container's worker only unpacks

    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=root,
                                capture_output=True, text=True)
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", ".",
                              *pathspecs], cwd=root, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return [f for f in out.stdout.decode("utf-8", "surrogateescape").split("\0") if f]


def _walk(root: Path, skip: Any) -> Iterable[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        # Prune ignored folders here so a large ignored tree (a venv, data) is never walked.
        dirnames[:] = sorted(d for d in dirnames if not skip.match_file(prefix + d + "/"))
        for name in filenames:
            if not skip.match_file(prefix + name):
                yield prefix + name


def _check_size(root: Path, files: list[str], max_bytes: int) -> None:
    sizes = [((root / f).lstat().st_size, f) for f in files]
    total = sum(s for s, _ in sizes)
    if total <= max_bytes:
        return
    biggest = ", ".join(f"{f} ({s / 1e6:.1f} MB)" for s, f in sorted(sizes, reverse=True)[:5])
    raise BundleError(
        f"The code bundle of {root} would hold {total / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit; "
        f"the biggest files: {biggest}. List data and build outputs in {root / IGNORE_FILE} "
        "(gitignore syntax) or raise max_bytes."
    )


# --- archive ---------------------------------------------------------------------------------------


def _write_archive(root: Path, files: list[str], archive: Path) -> str:
    """Write a reproducible tar.gz of ``files`` and return its sha256: sorted names, mtime 0 in
    both tar and gzip headers, owner 0, and modes reduced to git's view (0755 or 0644) so two
    checkouts of the same commit give the same bundle whatever their umask."""
    with (
        open(archive, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel in files:
            path = root / rel
            info = tar.gettarinfo(str(path), arcname=rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if info.isfile():
                info.mode = 0o755 if info.mode & 0o111 else 0o644
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    h = hashlib.sha256()
    with open(archive, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _upload(store: DataStore, archive: Path, rel: str) -> None:
    """Upload under a temporary name then move, so a crash never leaves a truncated bundle under
    the content-addressed name (which would be reused as if it were whole)."""
    import uuid  # only the host bundles (see _git_files)

    tmp_rel = f"{rel}.tmp-{uuid.uuid4().hex}"
    with open(archive, "rb") as src, store.open(tmp_rel, "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)
    store.fs.mv(_fs_path(store, tmp_rel), _fs_path(store, rel))


def _fs_path(store: DataStore, rel: str) -> str:
    import fsspec.core

    _, path = fsspec.core.url_to_fs(store.url(rel), **store.storage_options)
    return str(path)


def _safe_member(member: tarfile.TarInfo, dest: Path, url: str) -> tarfile.TarInfo:
    """Refuse members that would land outside ``dest`` (absolute, ``..``, links pointing out)."""
    base = dest.resolve()
    target = (base / member.name).resolve()
    bad = member.name.startswith("/") or not target.is_relative_to(base)
    if member.issym() or member.islnk():
        link_base = target.parent if member.issym() else base
        bad = bad or member.linkname.startswith("/") or not (link_base / member.linkname).resolve().is_relative_to(base)
    if bad or not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        raise BundleError(f"Code bundle {url} holds an unsafe entry '{member.name}'; it was not made by flyte-core.")
    return member


def _open(url: str, storage_options: dict[str, Any]) -> IO[bytes]:
    """Open a bundle for reading; a plain path (a mounted data store) needs no fsspec import."""
    if "://" not in url or url.startswith("file://"):
        return open(url.removeprefix("file://"), "rb")
    import fsspec

    f: IO[bytes] = fsspec.open(url, "rb", **storage_options).open()
    return f
