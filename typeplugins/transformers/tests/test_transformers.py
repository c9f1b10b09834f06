"""Flyte 2-style ``flyte.types.TypeTransformer`` subclasses work unchanged: registered with
``TypeEngine.register``, their types cross task boundaries (in-process and in worker processes) as
the protobuf literals they build."""

from __future__ import annotations

import asyncio
import base64
import datetime
from pathlib import Path
from typing import Optional

import pytest
import transformers_samples as ts
from flyteidl2.core import interface_pb2, literals_pb2, types_pb2
from flyteidl2.task import common_pb2

from flyte.types import (
    FlytePickle,
    Renderable,
    TypeEngine,
    TypeTransformer,
    TypeTransformerFailedError,
    guess_interface,
    literal_string_repr,
)
from flyte_core.extend import Session, TaskInputError

EXPECTED = (4.0, 2, 4.0, "Point", "ABC", "r: [(1.0, 2.0)] home=None")


@pytest.fixture
def session(flyte_session: Session) -> Session:
    return flyte_session


def test_a_registered_transformer_carries_its_type_between_tasks(session: Session) -> None:
    assert session.run(ts.shift, p=ts.Point(1, 2), by=0.5).outputs()[0] == ts.Point(1.5, 2.5)
    assert session.run(ts.pipeline, x=3.0).outputs()[0] == EXPECTED


def test_the_literal_is_the_transformers_protobuf(session: Session) -> None:
    run = session.run(ts.shift, p=ts.Point(1, 2), by=1.0)
    (root,) = run.actions()
    assert root.inputs is not None
    lit = root.inputs["p"]
    assert lit["t"] == "flyte2:Point" and lit["v"] == 1
    pb = literals_pb2.Literal.FromString(base64.b64decode(lit["d"]["pb"]))
    assert pb.scalar.primitive.string_value == "1,2"


@pytest.mark.slow
def test_round_trip_through_worker_processes(tmp_path: Path) -> None:
    s = Session(backend="local-process", data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"),
                root_dir=Path(ts.__file__).parent)
    try:
        assert s.run(ts.pipeline, x=3.0).outputs()[0] == EXPECTED
    finally:
        s.close()


def test_a_literals_own_hash_is_the_cache_key(session: Session) -> None:
    run = session.run(ts.count_versions)
    assert run.outputs()[0] == [3, 3, 2]  # the second v1 document is a cache hit on "doc-v1"
    assert [a.cache_hit for a in run.actions() if a.task.endswith("word_count")] == [False, True, False]
    first = next(a for a in run.actions() if a.task.endswith("word_count"))
    assert first.inputs is not None and first.inputs["d"]["d"]["hash"] == "doc-v1"


def test_a_transformers_refusal_names_the_task_and_input(session: Session) -> None:
    with pytest.raises(TaskInputError, match=r"warmer.*input 't'.*below absolute zero"):
        session.run(ts.warmer, t=ts.Celsius(-300))


def test_type_assertions_refuse_a_value_of_another_type(session: Session) -> None:
    with pytest.raises(TaskInputError, match=r"shift.*input 'p'"):
        session.run(ts.shift, p="1,2", by=1.0)


def test_a_transformer_that_returns_no_literal_is_named(session: Session) -> None:
    class Thing:
        pass

    class Broken(TypeTransformer[Thing]):
        def __init__(self) -> None:
            super().__init__("Broken", Thing)

        def get_literal_type(self, t: object = None) -> types_pb2.LiteralType:
            return types_pb2.LiteralType(simple=types_pb2.SimpleType.STRING)

        async def to_literal(self, python_val: Thing, python_type: object, expected: object) -> str:  # type: ignore[override]
            return "not a literal"

    TypeEngine.register(Broken())
    engine = session.engine
    from flyte_core.extend import ConversionContext

    with pytest.raises(TypeError, match=r"'Broken' returned a str .*not a flyteidl2"):
        engine.to_literal(Thing(), Thing, ConversionContext())


def test_registering_a_type_twice_is_refused_unless_it_is_the_same_code_again() -> None:
    class OtherPoint(ts.PointTransformer):
        def __init__(self) -> None:
            TypeTransformer.__init__(self, "OtherPoint", ts.Point)

    with pytest.raises(ValueError, match=r"Transformer Point for type .*Point.* already registered"):
        TypeEngine.register(OtherPoint())
    before = TypeEngine.get_transformer(ts.Point)
    with pytest.raises(ValueError, match="already registered"):
        TypeEngine.register(before)  # the very same object twice: a mistake, as in Flyte 2
    again = ts.PointTransformer()  # what a module imported anew (a worker, a test reload) registers
    TypeEngine.register(again)
    assert TypeEngine.get_transformer(ts.Point) is again
    with pytest.raises(TypeError, match=r"takes a flyte\.types\.TypeTransformer"):
        TypeEngine.register(object())  # type: ignore[arg-type]


def test_engine_classmethods_convert_builtin_types() -> None:
    async def round_trip(value: object, t: object) -> object:
        lit = await TypeEngine.to_literal(value, t, TypeEngine.to_literal_type(t))
        return await TypeEngine.to_python_value(lit, t)

    cases: list[tuple[object, object]] = [
        (3, int), (2.5, float), ("s", str), (True, bool), (None, type(None)),
        ([1, 2], list[int]), ({"a": [1.5]}, dict[str, list[float]]), (None, Optional[str]), ("x", Optional[str]),  # noqa: UP045
        (datetime.timedelta(seconds=90), datetime.timedelta),
        (datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), datetime.datetime),
        ([ts.Point(1, 2)], list[ts.Point]),
    ]
    for value, t in cases:
        assert asyncio.run(round_trip(value, t)) == value, t
    with pytest.raises(TypeTransformerFailedError):
        asyncio.run(TypeEngine.to_literal("3", int, None))
    with pytest.raises(ValueError, match=r"No flyte\.types transformer for"):
        TypeEngine.get_transformer(complex)


def test_get_transformer_by_subclass_and_annotation() -> None:
    from typing import Annotated

    assert TypeEngine.get_transformer(ts.Point3).name == "Point"
    assert TypeEngine.get_transformer(Annotated[str, ts.REVERSED]) is ts.REVERSED
    assert ts.Point in TypeEngine.get_available_transformers()


def test_literal_maps_and_kwargs() -> None:
    hints = {"p": ts.Point, "n": int}
    lm = asyncio.run(TypeEngine.dict_to_literal_map({"p": ts.Point(1, 2), "n": 4}, hints))
    assert literal_string_repr(lm) == {"p": "1,2", "n": 4}
    assert asyncio.run(TypeEngine.literal_map_to_kwargs(lm, hints)) == {"p": ts.Point(1, 2), "n": 4}


def test_literal_string_repr_of_literals() -> None:
    blob = literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://b/k")))
    coll = literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=[blob]))
    assert literal_string_repr(coll) == ["s3://b/k"]
    assert literal_string_repr(common_pb2.NamedLiteral(name="f", value=blob)) == {"f": "s3://b/k"}
    assert literal_string_repr(None) == {}


def test_guess_interface_reads_types_and_defaults() -> None:
    def var(simple: int) -> interface_pb2.Variable:
        return interface_pb2.Variable(type=types_pb2.LiteralType(simple=simple))

    iface = interface_pb2.TypedInterface(
        inputs=interface_pb2.VariableMap(variables=[
            interface_pb2.VariableEntry(key="n", value=var(types_pb2.SimpleType.INTEGER)),
            interface_pb2.VariableEntry(key="names", value=interface_pb2.Variable(type=types_pb2.LiteralType(
                collection_type=types_pb2.LiteralType(simple=types_pb2.SimpleType.STRING)))),
        ]),
        outputs=interface_pb2.VariableMap(variables=[
            interface_pb2.VariableEntry(key="o0", value=var(types_pb2.SimpleType.FLOAT))]),
    )
    default = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=7)))
    params = [common_pb2.NamedParameter(name="n", parameter=interface_pb2.Parameter(default=default))]
    native = guess_interface(iface, params)
    n = native.input("n")
    assert (n.hint, n.default) == (int, 7)
    assert native.input("names").hint == list[str] and native.input("names").required
    assert native.output is float


def test_renderable_and_flyte_pickle_names() -> None:
    class Bold:
        def to_html(self, python_value: object) -> str:
            return f"<b>{python_value}</b>"

    assert isinstance(Bold(), Renderable)
    assert FlytePickle[int].python_type() is int
