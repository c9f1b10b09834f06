"""A flyte.extras.ContainerTask on the kubernetes backend: a pod of its own image (no flyte-core in it)
reads its input file and writes its outputs through the hostPath data folder; a failing command's
output is in the error; no pod is left."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BASE_IMAGE, kube_options, pods_of

from flyte_core.extend import Config, RuntimeUserError, Session, load_file

pytest.importorskip("flyte_containertask")
pytestmark = [pytest.mark.timeout(600)]

TASKS = f'''
from flyte.extras import ContainerTask
from flyte.io import File

upper = ContainerTask(
    name="upper", image="{BASE_IMAGE}", inputs={{"doc": File, "times": int}}, outputs={{"text": File, "n": int}},
    command=["sh", "-c", "echo in-pod; tr a-z A-Z < /var/inputs/doc > /var/outputs/text; "
             "echo $(( $(cat /var/inputs/times) * 2 )) > /var/outputs/n"],
)
broken = ContainerTask(name="broken", image="{BASE_IMAGE}", command=["sh", "-c", "echo cannot >&2; exit 4"])
'''


@pytest.fixture
def session(tmp_path: Path, kube: Any) -> Iterator[Session]:
    (tmp_path / "kct_tasks.py").write_text(TASKS)
    data = tmp_path / "data"
    s = Session(config=Config(), backend="kubernetes", backend_options=kube_options(data), data_url=str(data),
                run_store=str(tmp_path / "runs.db"), root_dir=tmp_path)
    yield s
    s.close()


def test_container_task_runs_as_a_pod_of_its_image(session: Session, tmp_path: Path, kube: Any) -> None:
    from flyte.io import File

    sys.modules.pop("kct_tasks", None)
    tasks = load_file(tmp_path / "kct_tasks.py", tmp_path)
    doc = tmp_path / "doc.txt"
    doc.write_text("hello pod")
    run = session.run(tasks.upper, doc=File.from_local_sync(doc), times=21)
    text, n = run.outputs()[0]
    assert n == 42 and text.download_sync(tmp_path / "out.txt") and (tmp_path / "out.txt").read_text() == "HELLO POD"
    assert "in-pod" in [log.line for log in run.logs()]
    assert pods_of(kube, run.name) == []

    with pytest.raises(RuntimeUserError, match=r"ContainerTask 'broken'.*exited with code 4(.|\n)*cannot") as ei:
        session.run(tasks.broken)
    assert pods_of(kube, ei.value.run.name) == []  # type: ignore[attr-defined]
