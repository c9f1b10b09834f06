"""Types Flyte 2 programs use, as Flyte 2 treats them: TypedDicts, NamedTuple returns split into named
outputs, Callable inputs (cloudpickle), datetimes read back in UTC and Literals naming Enum members.

The engine-level tests use the core's transformers only; the run tests cross action boundaries in
process (local) and between processes (local-process), with the tasks of typed_tasks.py.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, NotRequired, Optional, Required, TypedDict, Union

import pytest

from flyte_core.errors.core import TaskInputError
from flyte_core.plugins.manager import make_plugin_set
from flyte_core.run.handle import ActionOutputs
from flyte_core.run.session import Session
from flyte_core.types import ConversionContext, TypeEngine
from flyte_core.types.typeddict import typeddict_keys
from tests import typed_tasks as tt

_ps = make_plugin_set(autoload=False)
ENGINE = TypeEngine(lambda key, hint: _ps.hook.flyte_type_transformer(python_type=key, hint=hint))
CTX = ConversionContext()
REPO = Path(__file__).resolve().parent.parent


def round_trip(value: Any, hint: Any) -> Any:
    """``value`` through a literal made plain JSON, as it crosses a process."""
    return ENGINE.to_python(json.loads(json.dumps(ENGINE.to_literal(value, hint, CTX))), hint, CTX)


# --- TypedDict ---------------------------------------------------------------------------------------


class Point(TypedDict):
    x: int
    y: float


class Labelled(Point, total=False):
    label: str
    seen: Required[dt.date]


def test_typeddict_round_trips_as_a_plain_dict_with_nested_values() -> None:
    order: tt.Order = {"id": 1, "placed": dt.datetime(2026, 1, 2, tzinfo=dt.UTC), "settings": {"note": None},
                       "tree": {"label": "r", "children": [{"label": "leaf"}]}, "tags": []}
    back = round_trip(order, tt.Order)
    assert back == order and type(back) is dict and type(back["tree"]["children"][0]) is dict
    assert "children" not in back["tree"]["children"][0] and "depth" not in back["settings"]
    assert round_trip([{"x": 1, "y": 2.0}], list[Point]) == [{"x": 1, "y": 2.0}]
    assert round_trip({"k": {"x": 1, "y": 0.5}}, dict[str, Point]) == {"k": {"x": 1, "y": 0.5}}


def test_typeddict_keys_follow_total_required_and_not_required() -> None:
    # String annotations (this module's `from __future__`) hide NotRequired from __required_keys__.
    assert [(k.name, k.required) for k in typeddict_keys(tt.Tree)] == [("label", True), ("children", False)]
    assert [(k.name, k.required) for k in typeddict_keys(Labelled)] == [
        ("x", True), ("y", True), ("label", False), ("seen", True)]
    assert typeddict_keys(tt.Settings)[1].hint == Optional[str]  # noqa: UP045
    assert round_trip({"x": 1, "y": 2.0, "seen": dt.date(2026, 1, 1)}, Labelled) == {
        "x": 1, "y": 2.0, "seen": dt.date(2026, 1, 1)}


def test_typeddict_literal_keeps_declaration_order() -> None:
    lit = ENGINE.to_literal({"y": 1.0, "x": 2}, Point, CTX)
    assert list(lit["d"]) == ["x", "y"] and lit["t"] == "typeddict"


def test_typeddict_refuses_missing_unknown_and_mistyped_keys() -> None:
    with pytest.raises(TypeError, match=r"Point lacks required key 'y'"):
        ENGINE.to_literal({"x": 1}, Point, CTX)
    with pytest.raises(TypeError, match=r"Point has no key 'z' \(its keys: x, y\)"):
        ENGINE.to_literal({"x": 1, "y": 1.0, "z": 0}, Point, CTX)
    with pytest.raises(TypeError, match=r"key 'x' of Point: expected int, got str"):
        ENGINE.to_literal({"x": "1", "y": 1.0}, Point, CTX)
    with pytest.raises(TypeError, match=r"expected Point \(a dict\), got list"):
        ENGINE.to_literal([1, 2.0], Point, CTX)
    with pytest.raises(ValueError, match=r"Point lacks required key 'y'"):
        ENGINE.to_python({"t": "typeddict", "v": 1, "d": {"x": 1}}, Point, CTX)


def test_typeddict_in_a_union_goes_to_the_member_whose_keys_fit() -> None:
    class Circle(TypedDict):
        r: float

    hint = Union[Point, Circle, None]  # noqa: UP007
    assert ENGINE.to_literal({"r": 1.0}, hint, CTX)["d"][0] == 1
    assert round_trip({"x": 1, "y": 1.0}, hint) == {"x": 1, "y": 1.0}
    assert round_trip(None, hint) is None


def test_task_input_error_names_task_input_and_key() -> None:
    with pytest.raises(TaskInputError, match=r"Task 'typed.describe_order', input 'order'.*lacks required key 'tree'"):
        Session(backend="local").run(tt.describe_order, order={"id": 1, "placed": dt.datetime(2026, 1, 1),
                                                               "settings": {}, "tags": []})


def test_typeddict_from_the_command_line_shapes_nested_values() -> None:
    conv = ENGINE.converter(tt.Order)
    assert conv.cli_form == "JSON object" and conv.from_cli is not None
    value = conv.from_cli(json.dumps({"id": 3, "placed": "2026-01-02T03:04:00+00:00", "settings": {"depth": 1},
                                      "tree": {"label": "r", "children": [{"label": "c"}]}, "tags": ["a"]}))
    assert value["placed"] == dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert value["tree"] == {"label": "r", "children": [{"label": "c"}]}
    with pytest.raises(ValueError, match="has no key 'bogus'"):
        conv.from_cli('{"bogus": 1}')


@pytest.mark.slow
def test_flyte_run_cli_takes_a_typeddict_as_json(tmp_path: Path) -> None:
    (tmp_path / "td_cli.py").write_text(
        "from typing import NotRequired, TypedDict\nimport flyte\nenv = flyte.TaskEnvironment(name='tdcli')\n"
        "class Msg(TypedDict):\n    text: str\n    calls: NotRequired[list[str]]\n"
        "@env.task\ndef calls(m: Msg) -> str:\n    return f\"{'calls' in m} {len(m.get('calls', []))}\"\n")

    def flyte(m: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flyte_core.cli", "run", "td_cli.py", "calls", "--m", m],
                              capture_output=True, text=True, cwd=tmp_path, timeout=120)

    assert flyte('{"text": "hi"}').stdout == "False 0\n"
    assert flyte('{"text": "hi", "calls": ["a", "b"]}').stdout == "True 2\n"
    bad = flyte('{"txt": "hi"}')
    assert bad.returncode != 0 and "Msg has no key 'txt'" in bad.stderr


# --- Literals naming Enum members, datetimes, Callables, NamedTuple inputs ------------------------------


def test_literal_naming_an_enum_member_takes_every_member_of_that_enum() -> None:
    hint = Literal[tt.Color.RED, "other", 3]
    assert [round_trip(v, hint) for v in (tt.Color.BLUE, tt.Color.RED, "other", 3)] == [
        tt.Color.BLUE, tt.Color.RED, "other", 3]
    with pytest.raises(TypeError, match="expected one of"):
        ENGINE.to_literal("red", hint, CTX)  # the value, not the member
    with pytest.raises(TypeError, match="expected one of"):
        ENGINE.to_literal(4, hint, CTX)
    conv = ENGINE.converter(hint)
    assert conv.from_cli is not None and conv.from_cli("BLUE") is tt.Color.BLUE and conv.from_cli("3") == 3


def test_datetimes_come_back_aware_in_utc() -> None:
    naive = dt.datetime(2024, 1, 1, 12, 0)
    back = round_trip(naive, dt.datetime)
    assert back == naive.replace(tzinfo=dt.UTC) and back.tzinfo is dt.UTC
    paris = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    back = round_trip(paris, dt.datetime)
    assert back.hour == 10 and back.tzinfo is dt.UTC and back == paris
    # A literal written before datetimes were normalised (naive ISO text) reads the same way.
    old = ENGINE.to_python({"t": "datetime", "v": 1, "d": "2024-01-01T12:00:00"}, dt.datetime, CTX)
    assert old == naive.replace(tzinfo=dt.UTC)


def test_callables_travel_by_value_and_tasks_by_reference() -> None:
    k = 7
    hint = Callable[[int], int]
    assert round_trip(lambda v: v + k, hint)(1) == 8
    assert round_trip(tt._scaler(5), hint)(2) == 10
    assert round_trip(tt.add_one, hint) is tt.add_one  # the module's own task, not a copy
    retried = round_trip(tt.add_one.override(retries=3), typing.Callable)
    assert retried.func is tt.add_one.func and retried.retries.count == 3
    with pytest.raises(TypeError, match=r"expected .*Callable\[\[int\], int\], got int 3"):
        ENGINE.to_literal(3, hint, CTX)


def test_unpicklable_callable_names_the_reason() -> None:
    import threading

    lock = threading.Lock()
    with pytest.raises(TypeError, match=r"cannot be pickled to send it to another task.*lock"):
        ENGINE.to_literal(lambda: lock.locked(), Callable[[], bool], CTX)


def test_namedtuple_input_takes_a_plain_tuple_of_its_fields() -> None:
    assert round_trip((1.5, 2), tt.Stats) == tt.Stats(1.5, 2)
    assert type(round_trip([1.5, 2], tt.Stats)) is tt.Stats
    with pytest.raises(TypeError, match="expected Stats"):
        ENGINE.to_literal((1.5,), tt.Stats, CTX)


def test_action_outputs_are_named_by_namedtuple_fields() -> None:
    outs = ActionOutputs((2.0, 3), ("mean", "count"))
    assert outs == (2.0, 3) and outs.mean == 2.0 and outs.count == 3 and outs.o1 == 3
    assert outs.named_outputs == {"mean": 2.0, "count": 3}
    assert ActionOutputs(("x",)).named_outputs == {"o0": "x"}
    with pytest.raises(AttributeError):
        _ = outs.o2


# --- through runs, in process and in worker processes ---------------------------------------------------


@pytest.fixture(params=["local", pytest.param("local-process", marks=pytest.mark.slow)])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    s = Session(backend=request.param, data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                root_dir=REPO)
    try:
        yield s
    finally:
        s.close()


def test_typeddicts_cross_tasks_with_optional_keys_absent(session: Session) -> None:
    out = session.run(tt.order_pipeline, n=1).outputs()[0]
    assert out == [
        "id=1 keys=['depth'] note=False nodes=4 leaf_keys=['label'] placed=2026-01-02T03:04:00+00:00",
        "id=2 keys=['depth', 'note'] note=None nodes=4 leaf_keys=['label'] placed=2026-01-02T03:04:00+00:00",
    ]
    order = session.run(tt.make_order, n=3).outputs()[0]
    assert order["settings"] == {"depth": 3} and order["tree"]["children"][0] == {"label": "a"}


def test_namedtuple_return_is_split_into_named_outputs(session: Session) -> None:
    outs = session.run(tt.stats, xs=[1.0, 2.0, 6.0]).outputs()
    assert tuple(outs) == (3.0, 3) and outs.mean == 3.0 and outs.named_outputs == {"mean": 3.0, "count": 3}
    one = session.run(tt.only, x=5).outputs()
    assert tuple(one) == (5,) and one.value == 5 and one.o0 == 5
    # A caller gets the NamedTuple (a tuple of the outputs), or the value of a one-field one.
    assert session.run(tt.use_stats, xs=[2.0, 4.0]).outputs()[0] == "Stats mean=3.0 count=2 only=42 again=6.0"


def test_callables_cross_tasks(session: Session) -> None:
    run = session.run(tt.apply_all, x=1)
    assert run.outputs()[0] == [101, 3, 2, 2]
    names = [a.task for a in run.actions()]
    assert names.count("typed.apply") == 4 and names.count("typed.add_one") == 2


def test_datetime_and_enum_literals_cross_tasks(session: Session) -> None:
    zone, back = session.run(tt.when, t=dt.datetime(2024, 1, 1, 12)).outputs()[0]
    assert zone == "UTC" and back == dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    assert session.run(tt.pick_all).outputs()[0] == ["<Color.BLUE: 'blue'>", "'other'", "3"]


def test_typeddict_with_real_annotations() -> None:
    # The functional form has real (not string) annotations, so __required_keys__ is right by itself.
    Msg = TypedDict("Msg", {"a": int, "b": NotRequired[str]})  # noqa: UP013 - the functional form on purpose
    assert [(k.name, k.required) for k in typeddict_keys(Msg)] == [("a", True), ("b", False)]
    assert round_trip({"a": 1}, Msg) == {"a": 1}
