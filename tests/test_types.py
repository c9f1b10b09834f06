"""The core type engine: property-based round trips and clear errors."""

from __future__ import annotations

import json
import math
import typing
from typing import Any, Optional, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flyte_core.errors.core import TypeTransformerError
from flyte_core.plugins.manager import make_plugin_set
from flyte_core.types import ConversionContext, TypeEngine
from flyte_core.types.fallback import PickleFallbackWarning

_ps = make_plugin_set(autoload=False)
ENGINE = TypeEngine(lambda key, hint: _ps.hook.flyte_type_transformer(python_type=key, hint=hint))
CTX = ConversionContext()

floats = st.floats(allow_nan=True, allow_infinity=True)
scalars: dict[Any, st.SearchStrategy[Any]] = {
    int: st.integers(), float: floats, str: st.text(), bool: st.booleans(), bytes: st.binary(),
}


def hints_and_values() -> st.SearchStrategy[tuple[Any, Any]]:
    """Random type hints nested up to a few levels, with a value of each."""
    base = st.sampled_from(list(scalars.items()))

    def extend(inner: st.SearchStrategy[tuple[Any, Any]]) -> st.SearchStrategy[tuple[Any, Any]]:
        def build(draw_pair: tuple[Any, Any], kind: str, draw_pair2: tuple[Any, Any]) -> tuple[Any, Any]:
            h, s = draw_pair
            h2, s2 = draw_pair2
            if kind == "list":
                return list[h], st.lists(s, max_size=4)
            if kind == "dict":
                return dict[str, h], st.dictionaries(st.text(max_size=5), s, max_size=4)
            if kind == "dictint":
                return dict[int, h], st.dictionaries(st.integers(), s, max_size=4)
            if kind == "tuple":
                return tuple[h, h2], st.tuples(s, s2)
            if kind == "vartuple":
                return tuple[h, ...], st.lists(s, max_size=3).map(tuple)
            return Optional[h], st.none() | s  # noqa: UP045 - typing.Optional on purpose

        return st.builds(build, inner, st.sampled_from(["list", "dict", "dictint", "tuple", "vartuple", "opt"]),
                         inner)

    return st.recursive(base, extend, max_leaves=6).flatmap(lambda hs: st.tuples(st.just(hs[0]), hs[1]))


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None)
@given(hints_and_values())
def test_round_trip_through_json(hv: tuple[Any, Any]) -> None:
    hint, value = hv
    lit = ENGINE.to_literal(value, hint, CTX)
    wire = json.loads(json.dumps(lit))  # literals are plain JSON
    assert same(ENGINE.to_python(wire, hint, CTX), value)


@given(st.one_of(st.integers(), st.text(), st.none(), st.lists(st.integers())))
def test_union_picks_the_member_that_fits(v: Any) -> None:
    hint = Union[int, str, None, list[int]]  # noqa: UP007 - typing.Union on purpose
    assert same(ENGINE.to_python(ENGINE.to_literal(v, hint, CTX), hint, CTX), v)


def test_bool_is_not_an_int_and_int_widens_to_float() -> None:
    with pytest.raises(TypeError, match="expected int, got bool"):
        ENGINE.to_literal(True, int, CTX)
    assert ENGINE.to_python(ENGINE.to_literal(3, float, CTX), float, CTX) == 3.0


def test_mismatches_name_expected_and_received_types() -> None:
    with pytest.raises(TypeError, match=r"expected list\[int\], got dict"):
        ENGINE.to_literal({"a": 1}, list[int], CTX)
    with pytest.raises(TypeError, match="expected int, got str"):
        ENGINE.to_literal([1, "2"], list[int], CTX)
    with pytest.raises(TypeError, match="is not a str"):
        ENGINE.to_literal({1: 2}, dict[str, int], CTX)


def test_literal_from_another_transformer_version_is_refused() -> None:
    lit = ENGINE.to_literal(5, int, CTX)
    lit["v"] = 99
    with pytest.raises(TypeTransformerError, match="version 99 cannot be read as int"):
        ENGINE.to_python(lit, int, CTX)


def test_bare_containers_and_any_carry_json() -> None:
    for hint, value in [(dict, {"a": [1, {"b": None}]}), (list, [1, "x"]), (typing.Any, 3.5), (tuple, (1, "a"))]:
        assert ENGINE.to_python(ENGINE.to_literal(value, hint, CTX), hint, CTX) == value


class Opaque:
    def __init__(self, v: int) -> None:
        self.v = v


def test_unknown_classes_fall_back_to_pickle_with_a_warning() -> None:
    with pytest.warns(PickleFallbackWarning, match="Opaque has no type transformer"):
        lit = ENGINE.to_literal(Opaque(3), Opaque, CTX)
    assert lit["t"] == "pickle"
    assert ENGINE.to_python(lit, Opaque, CTX).v == 3


def test_converters_are_cached_per_hint() -> None:
    assert ENGINE.converter(list[int]) is ENGINE.converter(list[int])


# --- richer core types ---------------------------------------------------------------------------

import datetime as dt  # noqa: E402
import enum  # noqa: E402
from typing import Literal, NamedTuple  # noqa: E402

from flyte_core.storage.datastore import DataStore  # noqa: E402


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Point(NamedTuple):
    x: int
    y: float
    label: str = "p"


aware = st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]))
rich_values: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (dt.datetime, st.datetimes() | aware),
    (dt.date, st.dates()),
    (dt.timedelta, st.timedeltas()),
    (Color, st.sampled_from(Color)),
    (Level, st.sampled_from(Level)),
    (Literal["a", "b", 3], st.sampled_from(["a", "b", 3])),
    (Point, st.builds(Point, st.integers(), st.floats(allow_nan=False), st.text())),
    (dict[Color, list[dt.date]], st.dictionaries(st.sampled_from(Color), st.lists(st.dates(), max_size=3))),
    (Optional[tuple[Level, dt.timedelta]], st.none() | st.tuples(st.sampled_from(Level), st.timedeltas())),  # noqa: UP045
]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(rich_values).flatmap(lambda hs: st.tuples(st.just(hs[0]), hs[1])))
def test_rich_core_types_round_trip(hv: tuple[Any, Any]) -> None:
    hint, value = hv
    wire = json.loads(json.dumps(ENGINE.to_literal(value, hint, CTX)))
    back = ENGINE.to_python(wire, hint, CTX)
    if isinstance(value, dt.datetime):  # read back aware, in UTC; a naive value was UTC (Flyte 2's rule)
        assert back.tzinfo is dt.UTC and type(back) is dt.datetime
        assert back == (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value)
        return
    assert back == value and type(back) is type(value)


def test_union_prefers_exact_type_and_reports_ambiguity() -> None:
    h = Union[float, int]  # noqa: UP007
    assert type(ENGINE.to_python(ENGINE.to_literal(3, h, CTX), h, CTX)) is int
    assert type(ENGINE.to_python(ENGINE.to_literal(3.0, h, CTX), h, CTX)) is float

    mixed = Union[Color, Literal["red"], dt.date]  # noqa: UP007
    assert ENGINE.to_python(ENGINE.to_literal(Color.RED, mixed, CTX), mixed, CTX) is Color.RED
    assert ENGINE.to_python(ENGINE.to_literal("red", mixed, CTX), mixed, CTX) == "red"

    from flyte_core.types import Converter

    class X: ...
    class Y: ...
    class Z(X, Y): ...

    def by_name(cls: type) -> Any:
        class T:
            name = f"t-{cls.__name__}"
            version = 1

            def compile(self, hint: Any, engine: Any) -> Converter:
                return Converter(self.name, 1, lambda v, c: None, lambda p, c: cls(),
                                 lambda v: isinstance(v, cls), py_type=cls)

        return T()

    table = {X: by_name(X), Y: by_name(Y)}
    engine = TypeEngine(lambda key, hint: table.get(key) or _ps.hook.flyte_type_transformer(python_type=key, hint=hint))
    with pytest.raises(TypeError, match=r"fits several members of .*X.*Y.* \(.*X and .*Y\)"):
        engine.to_literal(Z(), Union[X, Y], CTX)  # noqa: UP007


def test_large_values_are_offloaded_to_the_data_store(tmp_path: Any) -> None:
    store = DataStore(str(tmp_path))
    ctx = ConversionContext(store=store, prefix=str(tmp_path / "run"))
    big = list(range(100_000))
    lit = ENGINE.to_literal(big, list[int], ctx)
    assert "uri" in lit and "d" not in lit
    assert ENGINE.to_python(json.loads(json.dumps(lit)), list[int], ctx) == big
    small = ENGINE.to_literal([1, 2], list[int], ctx)
    assert small["d"] == [1, 2]
    text = "x" * (ENGINE.offload_bytes + 1)
    assert "uri" in ENGINE.to_literal(text, str, ctx)
    assert ENGINE.to_python(ENGINE.to_literal(text, str, ctx), str, ctx) == text


def test_cli_forms_of_core_types() -> None:
    from flyte_core.types.temporal import parse_duration

    assert ENGINE.converter(Color).from_cli("GREEN") is Color.GREEN  # type: ignore[misc]
    assert ENGINE.converter(Color).from_cli("red") is Color.RED  # type: ignore[misc]
    assert ENGINE.converter(Level).from_cli("2") is Level.HIGH  # type: ignore[misc]
    with pytest.raises(ValueError, match="not one of RED, GREEN"):
        ENGINE.converter(Color).from_cli("blue")  # type: ignore[misc]
    assert ENGINE.converter(dt.datetime).from_cli("2026-01-31T12:00:00+02:00").utcoffset() == dt.timedelta(hours=2)  # type: ignore[misc]
    assert parse_duration("1h30m") == dt.timedelta(minutes=90)
    assert parse_duration("PT2M") == dt.timedelta(minutes=2)
    assert parse_duration("250ms") == dt.timedelta(milliseconds=250)
    assert parse_duration("90") == dt.timedelta(seconds=90)
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration("soon")
