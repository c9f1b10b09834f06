"""File and Dir as fields of Pydantic models: carried as references (path, name, format, hash),
nothing uploaded, as in Flyte 2."""

from __future__ import annotations

import pytest

pydantic = pytest.importorskip("pydantic")

from flyte_types_files import Dir, File  # noqa: E402

import flyte  # noqa: E402
from flyte_core.extend import Session  # noqa: E402


class Bundle(pydantic.BaseModel):  # type: ignore[name-defined,misc]
    report: File
    folders: dict[str, Dir]
    extra: File | None = None


env = flyte.TaskEnvironment(name="files_in_models")


@env.task
def describe(b: Bundle) -> str:
    return f"{b.report.path}|{b.report.name}|{b.report.hash}|{sorted(b.folders)}|{b.folders['d'].path}"


def test_model_dump_and_validate_keep_the_reference() -> None:
    b = Bundle(report=File(path="s3://bucket/r.csv", format="csv", hash="h1"), folders={"d": Dir(path="/tmp/d1")})
    dumped = b.model_dump(mode="json")
    assert dumped["report"] == {"path": "s3://bucket/r.csv", "name": "r.csv", "format": "csv", "hash": "h1"}
    back = Bundle.model_validate_json(b.model_dump_json())
    assert back.report == b.report and back.folders["d"] == Dir(path="/tmp/d1") and back.extra is None
    assert Bundle.model_validate(dumped).report == b.report  # from plain dicts too
    assert "report" in Bundle.model_json_schema()["properties"]


def test_a_model_with_files_crosses_a_task_boundary_by_reference(flyte_session: Session) -> None:
    b = Bundle(report=File(path="example.txt"), folders={"d": Dir(path="/tmp/d1")})  # need not exist
    assert flyte_session.run(describe, b=b).outputs()[0] == "example.txt|example.txt|None|['d']|/tmp/d1"


def test_a_wrong_field_value_is_refused_by_the_model() -> None:
    with pytest.raises(pydantic.ValidationError):
        Bundle(report=3, folders={})
