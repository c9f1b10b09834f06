"""EmptyDir, Flyte 2's "no directory was produced" value, across task boundaries."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from flyte_types_files import Dir, EmptyDir

import flyte
from flyte_core.extend import Session

env = flyte.TaskEnvironment(name="files_empty_dir")


@env.task
def maybe_produce(want: bool) -> Dir:
    if not want:
        return EmptyDir()
    root = Path(tempfile.mkdtemp()) / "out"
    root.mkdir()
    (root / "x.txt").write_text("x")
    return Dir(path=str(root))


@env.task
def count_files(d: Dir) -> int:
    return -1 if d.is_empty else len(d.list_files_sync())


@env.task
def both() -> list[int]:
    return [count_files(maybe_produce(True)), count_files(maybe_produce(False))]


def test_empty_dir_is_a_dir_with_the_sentinel() -> None:
    e = EmptyDir()
    assert isinstance(e, Dir) and e.is_empty and Dir.empty().is_empty and e.name == ""
    assert not e.exists_sync() and list(e.walk_sync()) == [] and e.get_file_sync("x") is None
    with pytest.raises(ValueError, match="EmptyDir"):
        e.download_sync()


def test_empty_dir_crosses_task_boundaries(flyte_session: Session) -> None:
    assert flyte_session.run(both).outputs()[0] == [1, -1]
    d = flyte_session.run(maybe_produce, want=False).outputs()[0]
    assert type(d) is Dir and d.is_empty and d.hash is None
