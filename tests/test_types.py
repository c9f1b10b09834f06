"""The core type engine: property-based round trips and clear errors."""

from __future__ import annotations

import json
import math
import typing
from typing import Any, Optional, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flyte_core.errors import TypeTransformerError
from flyte_core.plugins import make_plugin_set
from flyte_core.types import ConversionContext, TypeEngine
from flyte_core.types.builtins import PickleFallbackWarning

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
