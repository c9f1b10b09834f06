"""The dataclass and attrs transformers beyond the conformance suite: schema evolution, recursion,
the command line, the hook's answers, and real pipelines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import attrs
import pytest
from dc_models import Account, Box, Color, Counter, Line, Money, Node, Point, Point3, Rich, Tree
from flyte_types_dataclasses import ATTRS, DATACLASS
from flyte_types_dataclasses.plugin import flyte_type_transformer

import flyte
from flyte_core.extend import ConversionContext, Converter, Session, TypeEngine, hookimpl


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = Session(data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"))
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def engine(session: Session) -> TypeEngine:
    return session.engine


CTX = ConversionContext()


# --- payloads and schema evolution ----------------------------------------------------------------


def test_payload_is_a_json_object_of_field_payloads(engine: TypeEngine) -> None:
    lit = engine.to_literal(Line(Point(1, 2.0), Point(3, 4.0)), Line, CTX)
    assert lit == {"t": "dataclass", "v": 1,
                   "d": {"a": {"x": 1, "y": 2.0}, "b": {"x": 3, "y": 4.0}, "label": ""}}
    lit = engine.to_literal(Money(5), Money, CTX)
    assert lit == {"t": "attrs", "v": 1, "d": {"amount": 5, "currency": "EUR"}}


def test_missing_fields_with_defaults_take_the_default(engine: TypeEngine) -> None:
    # Written by an older producer, before z, history and the private field existed.
    assert engine.to_python({"t": "dataclass", "v": 1, "d": {"x": 1, "y": 2.0}}, Point3, CTX) == Point3(1, 2.0, 0)
    acc = engine.to_python({"t": "attrs", "v": 1, "d": {"owner": "o", "balance": {"amount": 1}}}, Account, CTX)
    assert acc == Account("o", Money(1, "EUR"))
    assert acc.history == [] and acc._secret == "hidden"


def test_missing_required_field_is_refused(engine: TypeEngine) -> None:
    with pytest.raises(ValueError, match="Point lacks field 'y', which has no default"):
        engine.to_python({"t": "dataclass", "v": 1, "d": {"x": 1}}, Point, CTX)


def test_unknown_field_is_refused_naming_class_and_field(engine: TypeEngine) -> None:
    with pytest.raises(ValueError, match=r"Point has no field 'w' \(its fields: x, y\)"):
        engine.to_python({"t": "dataclass", "v": 1, "d": {"x": 1, "y": 2.0, "w": 0}}, Point, CTX)
    with pytest.raises(ValueError, match="field 'balance' of Account: Money has no field 'cents'"):
        engine.to_python({"t": "attrs", "v": 1, "d": {"owner": "o", "balance": {"amount": 1, "cents": 2}}},
                         Account, CTX)


def test_payload_that_is_not_an_object_is_refused(engine: TypeEngine) -> None:
    with pytest.raises(ValueError, match="a Point literal must be a JSON object"):
        engine.to_python({"t": "dataclass", "v": 1, "d": [1, 2.0]}, Point, CTX)


def test_wrong_field_value_names_the_field_path(engine: TypeEngine) -> None:
    with pytest.raises(TypeError, match=r"field 'points' of Rich: the value for Point lacks field 'y'"):
        engine.to_literal(Rich([{"x": 1}], {}, None, Color.RED, dt.datetime(2026, 1, 1)), Rich, CTX)  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"field 'b' of Line: field 'x' of Point: expected int, got str"):
        engine.to_literal(Line(Point(1, 1.0), Point("2", 1.0)), Line, CTX)  # type: ignore[arg-type]


def test_field_outside_init_is_kept(engine: TypeEngine) -> None:
    c = Counter(1)
    c.total = 41
    back = engine.to_python(engine.to_literal(c, Counter, CTX), Counter, CTX)
    assert back.total == 41 and back == c


def test_subclass_value_for_a_base_hint_travels_as_the_base(engine: TypeEngine) -> None:
    """As in Flyte 2: the hint's fields are sent, and the hint's class comes back."""
    back = engine.to_python(engine.to_literal(Point3(1, 2.0, 3), Point, CTX), Point, CTX)
    assert type(back) is Point and back == Point(1, 2.0)


def test_subclass_hint_uses_its_own_fields(engine: TypeEngine) -> None:
    assert list(engine.converter(Point3).literal_type["fields"]) == ["x", "y", "z"]
    assert engine.converter(Point3).py_type is Point3


# --- recursion ------------------------------------------------------------------------------------


def test_recursive_classes_compile_without_recursing(engine: TypeEngine) -> None:
    # Asking for the container first is the order a task signature `list[Node]` gives.
    assert engine.converter(list[Node]).transformer == "list"
    deep = Node("0")
    for i in range(1, 60):
        deep = Node(str(i), [deep])
    assert engine.to_python(engine.to_literal(deep, Node, CTX), Node, CTX) == deep
    t = Tree(1, Tree(2, Tree(3)))
    assert engine.to_python(engine.to_literal(t, Tree | None, CTX), Tree | None, CTX) == t


def test_locally_defined_self_referencing_class(engine: TypeEngine) -> None:
    @dataclasses.dataclass
    class Chain:
        n: int
        nxt: Chain | None = None

    c = Chain(1, Chain(2))
    assert engine.to_python(engine.to_literal(c, Chain, CTX), Chain, CTX) == c


def test_class_that_cannot_be_rebuilt_is_refused_at_compile(engine: TypeEngine) -> None:
    @dataclasses.dataclass
    class NeedsSeed:
        seed: dataclasses.InitVar[int]
        value: int = 0

    with pytest.raises(TypeError, match="constructor needs 'seed', which is not a field"):
        engine.converter(NeedsSeed)


def test_generic_and_annotated_records(engine: TypeEngine) -> None:
    conv = engine.converter(Box[str])
    assert conv.literal_type["fields"] == {"item": "str", "items": "list[str]"}
    with pytest.raises(TypeError, match="field 'item' of Box: expected str"):
        conv.to_literal(Box(1, []), CTX)
    ann = Annotated[Point, "meta"]
    assert engine.to_python(engine.to_literal(Point(1, 1.0), ann, CTX), ann, CTX) == Point(1, 1.0)


# --- the command line -----------------------------------------------------------------------------


def test_from_cli_builds_nested_instances(engine: TypeEngine) -> None:
    conv = engine.converter(Rich)
    assert conv.cli_form == "JSON object"
    text = json.dumps({"points": [{"x": 1, "y": 2}], "tags": {"a": 1}, "note": None, "color": "BLUE",
                       "at": "2026-01-02T03:04:05+00:00", "day": "2026-01-02"})
    assert conv.from_cli is not None
    assert conv.from_cli(text) == Rich([Point(1, 2.0)], {"a": 1}, None, Color.BLUE,
                                       dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), dt.date(2026, 1, 2))
    tree = engine.converter(Node).from_cli
    assert tree is not None
    assert tree('{"name": "r", "children": [{"name": "c"}]}') == Node("r", [Node("c")])
    acc = engine.converter(Account).from_cli
    assert acc is not None
    assert acc('{"owner": "o", "balance": {"amount": 2}, "secret": "s"}') == Account("o", Money(2), secret="s")
    box = engine.converter(Box[Money]).from_cli
    assert box is not None
    assert box('{"item": {"amount": 1}, "items": []}') == Box(Money(1), [])


@pytest.mark.parametrize(("text", "message"), [
    ('{"x": 1, "y": 2, "q": 3}', "Point has no field 'q'"),
    ('{"x": "1", "y": 2}', "field 'x' of Point: expected int, got str"),
    ('{"x": 1}', "Point lacks field 'y'"),
    ("[1, 2]", "expected a JSON object for Point"),
])
def test_from_cli_refuses_bad_objects(engine: TypeEngine, text: str, message: str) -> None:
    parse = engine.converter(Point).from_cli
    assert parse is not None
    with pytest.raises((TypeError, ValueError), match=message):
        parse(text)


CLI_TASKS = '''
import dataclasses
import flyte

env = flyte.TaskEnvironment(name="cli")


@dataclasses.dataclass
class Point:
    x: int
    y: float = 0.0


@dataclasses.dataclass
class Line:
    a: Point
    b: Point


@env.task
def length(line: Line) -> float:
    return ((line.b.x - line.a.x) ** 2 + (line.b.y - line.a.y) ** 2) ** 0.5
'''


def test_flyte_run_parses_a_record_from_json(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(CLI_TASKS)
    r = subprocess.run([sys.executable, "-m", "flyte_core.cli", "run", "--no-progress", "wf.py", "length", "--line",
                        '{"a": {"x": 0}, "b": {"x": 3, "y": 4}}'], capture_output=True, text=True, cwd=tmp_path,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "5.0"


# --- the hook -------------------------------------------------------------------------------------


class Plain:
    pass


def test_hook_answers_only_for_record_classes_themselves() -> None:
    assert flyte_type_transformer(Point, Point) is DATACLASS
    assert flyte_type_transformer(Money, Money) is ATTRS
    assert flyte_type_transformer(Box, Box[int]) is DATACLASS
    assert flyte_type_transformer(Point, Annotated[Point, "m"]) is DATACLASS
    assert flyte_type_transformer(Point, Point3) is None  # a base class of the hint
    for key, hint in [(int, int), (list, list[Point]), (Plain, Plain), (object, Point), (typing.Union, Point | None),
                      (Point(1, 1.0), Point(1, 1.0))]:
        assert flyte_type_transformer(key, hint) is None, (key, hint)


def test_hook_is_cheap_for_other_types() -> None:
    start = time.perf_counter()
    for _ in range(20_000):
        flyte_type_transformer(Plain, Plain)
        flyte_type_transformer(object, Plain)
    assert time.perf_counter() - start < 0.5


def test_a_specific_plugin_for_a_record_class_wins(tmp_path: Path) -> None:
    class MoneyAsText:
        name = "money-text"
        version = 1

        def compile(self, hint: Any, engine: TypeEngine) -> Converter:
            return Converter(self.name, self.version, lambda v, _c: f"{v.amount} {v.currency}",
                             lambda p, _c: Money(int(p.split()[0]), p.split()[1]),
                             lambda v: isinstance(v, Money))

    class Specific:
        @hookimpl
        def flyte_type_transformer(self, python_type: Any, hint: Any) -> Any:
            return MoneyAsText() if python_type is Money else None

    s = Session(data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"), plugins=(Specific(),))
    try:
        assert s.engine.converter(Money).transformer == "money-text"
        assert s.engine.converter(Point).transformer == "dataclass"
    finally:
        s.close()


# --- real pipelines -------------------------------------------------------------------------------

env = flyte.TaskEnvironment(name="records")


@env.task
def plant(depth: int) -> Node:
    node = Node(f"leaf{depth}")
    for i in range(depth):
        node = Node(f"n{i}", [node, Node(f"x{i}")])
    return node


@env.task
def count(tree: Node) -> int:
    return 1 + sum(count(c) for c in tree.children) if tree.children else 1


@env.task
def open_account(owner: str, cents: list[int]) -> Account:
    return Account(owner, Money(sum(cents)), [Money(c) for c in cents], dt.date(2026, 3, 4))


@env.task
def audit(account: Account, line: Line | None = None) -> dict[str, int]:
    return {"total": account.balance.amount, "entries": len(account.history), "line": 0 if line is None else 1}


@env.task
def forest(depth: int) -> tuple[int, dict[str, int]]:
    tree = plant(depth)
    acc = open_account("ann", [1, 2, 3])
    return count(tree), audit(acc, Line(Point(0, 0.0), Point(1, 1.0)))


def test_pipeline_passes_records_between_tasks(session: Session) -> None:
    run = session.run(forest, depth=3)
    assert run.outputs()[0] == (7, {"total": 6, "entries": 3, "line": 1})


def test_record_outputs_come_back_as_instances(session: Session) -> None:
    assert session.run(plant, depth=1).outputs()[0] == Node("n0", [Node("leaf1"), Node("x0")])
    acc = session.run(open_account, owner="bo", cents=[4]).outputs()[0]
    assert acc == Account("bo", Money(4), [Money(4)], dt.date(2026, 3, 4))
    assert isinstance(acc.balance, Money) and attrs.has(type(acc))


# --- plain dicts for records, records inside TypedDicts (Flyte 2 programs do both) ------------------


def test_a_dict_given_for_a_record_is_made_into_one(engine: TypeEngine) -> None:
    assert engine.to_literal({"x": 1, "y": 2.0}, Point, CTX) == engine.to_literal(Point(1, 2.0), Point, CTX)
    # Nested dicts become nested records; left-out fields take their defaults; attrs by init alias.
    line = {"a": {"x": 0, "y": 0.0}, "b": Point(1, 1.0)}
    assert engine.to_python(engine.to_literal(line, Line, CTX), Line, CTX) == Line(Point(0, 0.0), Point(1, 1.0))
    lit = engine.to_literal({"amount": 3}, Money, CTX)
    assert engine.to_python(lit, Money, CTX) == Money(3, "EUR")
    assert engine.to_python(engine.to_literal([{"x": 1, "y": 0.5}], list[Point], CTX), list[Point], CTX) == [
        Point(1, 0.5)]
    with pytest.raises(TypeError, match="the value for Point lacks field 'y', which has no default"):
        engine.to_literal({"x": 1}, Point, CTX)
    with pytest.raises(TypeError, match=r"Point has no field 'z' \(its fields: x, y\); remove it"):
        engine.to_literal({"x": 1, "y": 1.0, "z": 2}, Point, CTX)


class Ledger(typing.TypedDict):
    account: Account
    points: list[Point]
    note: typing.NotRequired[str]


@env.task
def ledger(owner: str) -> Ledger:
    return {"account": Account(owner, Money(7), [Money(7)], dt.date(2026, 3, 4)), "points": [Point(1, 2.0)]}


@env.task
def read_ledger(entry: Ledger) -> str:
    acc, point = entry["account"], entry["points"][0]
    return f"{type(acc).__name__} {acc.owner} {acc.balance.amount} {type(point).__name__} {'note' in entry}"


@env.task
def ledger_pipeline(owner: str) -> str:
    return read_ledger(ledger(owner))


def test_dict_inputs_for_records_in_a_run(session: Session) -> None:
    run = session.run(audit, account={"owner": "ann", "balance": {"amount": 5}, "opened": dt.date(2026, 1, 1)})
    assert run.outputs()[0] == {"total": 5, "entries": 0, "line": 0}


@pytest.mark.slow
def test_typeddict_holding_records_crosses_worker_processes(tmp_path: Path) -> None:
    s = Session(backend="local-process", data_url=str(tmp_path / "d"), run_store=str(tmp_path / "r.db"),
                root_dir=Path(__file__).parent)
    try:
        assert s.run(ledger_pipeline, owner="bo").outputs()[0] == "Account bo 7 Point False"
    finally:
        s.close()
