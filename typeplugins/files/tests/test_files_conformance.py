"""The type conformance suite, run against File and Dir (compared by name and content, not path)."""

from __future__ import annotations

import atexit
import hashlib
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import fsspec
from files_helpers import dir_contents, file_bytes
from flyte_types_files import Dir, File
from flyte_types_files.storage import hash_tree

from flyte_core.testing.types import TypeTransformerSuite

# Cases are class attributes, so their files must exist when this module is imported.
_ROOT = Path(tempfile.mkdtemp(prefix="flyte-files-conformance-"))
atexit.register(shutil.rmtree, _ROOT, True)


def _write(rel: str, data: bytes) -> str:
    p = _ROOT / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return str(p)


_TEXT = _write("plain/hello.txt", b"hello, files\n")
_EMPTY = _write("plain/empty.bin", b"")
_BIG = _write("plain/big.bin", random.Random(7).randbytes(2_500_000 + 17))  # several upload chunks
_CSV = _write("odd/tmp-1234", b"a,b\n1,2\n")
_TREE = Path(_write("tree/data/top.txt", b"top")).parent
_write("tree/data/sub/deeper/leaf.json", b'{"leaf": true}')
_write("tree/data/sub/mid.csv", b"x\n1\n")
(_ROOT / "tree" / "empty").mkdir(parents=True)

_mem = fsspec.filesystem("memory")
_mem.pipe_file("/flyte-files-conformance/remote/readme.md", b"# stored elsewhere\n")
_mem.pipe_file("/flyte-files-conformance/remote-dir/a.txt", b"A")
_mem.pipe_file("/flyte-files-conformance/remote-dir/b/c.txt", b"C")


class TestFileAndDir(TypeTransformerSuite):
    cases = [
        (File, File(path=_TEXT)),
        (File, File(path=_EMPTY)),
        (File, File(path=_BIG)),
        (File, File(path=_CSV, name="table.csv", format="csv")),  # name differs from the path's
        (File["csv"], File(path=_CSV, name="table.csv")),
        (File, File.from_existing_remote("memory://flyte-files-conformance/remote/readme.md")),
        (File, File.from_existing_remote("memory://flyte-files-conformance/remote/readme.md",
                                         file_cache_key="my-cache-key")),
        (Dir, Dir(path=str(_TREE))),
        (Dir, Dir(path=str(_ROOT / "tree" / "empty"))),
        (Dir, Dir.from_existing_remote("memory://flyte-files-conformance/remote-dir")),
        (File | Dir, Dir(path=str(_TREE))),
        (tuple[File, Dir], (File(path=_TEXT), Dir(path=str(_TREE)))),
        (dict[str, list[File]], {"k": [File(path=_TEXT), File(path=_EMPTY)]}),
    ]
    wrong_values = [
        (File, _TEXT),
        (File, b"hello"),
        (File, Dir(path=str(_TREE))),
        (Dir, File(path=_TEXT)),
        (Dir, str(_TREE)),
    ]

    def assert_same(self, expected: Any, actual: Any) -> None:
        """Same class, name and content; the hash is the content's (or the one the user gave)."""
        assert type(actual) is type(expected)
        if isinstance(expected, tuple | list):
            assert len(actual) == len(expected)
            for e, a in zip(expected, actual):
                self.assert_same(e, a)
        elif isinstance(expected, dict):
            assert actual.keys() == expected.keys()
            for k in expected:
                self.assert_same(expected[k], actual[k])
        elif isinstance(expected, File):
            assert actual.name == expected.name
            data = file_bytes(actual)
            assert data == file_bytes(expected)
            assert actual.hash == (expected.hash or hashlib.sha256(data).hexdigest())
        elif isinstance(expected, Dir):
            assert actual.name == expected.name
            assert dir_contents(actual) == dir_contents(expected)
            fs, path = fsspec.core.url_to_fs(actual.path)
            assert actual.hash == (expected.hash or hash_tree(fs, path))
        else:
            assert actual == expected
