"""Tasks moving the types Flyte 2 programs use (TypedDict, NamedTuple returns, Callable inputs, datetimes,
Literals naming Enum members), run by test_flyte2_types.py in process and in worker processes.

String annotations on purpose (``from __future__``): Python then cannot tell ``NotRequired`` keys from
``__required_keys__``, and the TypedDict transformer must still get them right.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Literal, NamedTuple, NotRequired, Optional, TypedDict

import flyte

env = flyte.TaskEnvironment(name="typed")


# --- TypedDict -------------------------------------------------------------------------------------


class Tree(TypedDict):
    """Refers to itself; a leaf has no 'children' key at all."""

    label: str
    children: NotRequired[list[Tree]]


class Settings(TypedDict, total=False):
    """Every key optional; 'note' may also be None when given."""

    depth: int
    note: Optional[str]  # noqa: UP045 - the typing spelling on purpose


class Order(TypedDict):
    id: int
    placed: dt.datetime
    settings: Settings
    tree: Tree
    tags: list[str]


def count(tree: Tree) -> int:
    """Nodes of ``tree``."""
    return 1 + sum(count(c) for c in tree.get("children", []))


@env.task
def make_order(n: int) -> Order:
    """An order whose optional keys are left out where n is odd."""
    settings: Settings = {"depth": n} if n % 2 else {"depth": n, "note": None}
    tree: Tree = {"label": "root", "children": [{"label": "a"}, {"label": "b", "children": [{"label": "c"}]}]}
    return {"id": n, "placed": dt.datetime(2026, 1, 2, 3, 4), "settings": settings, "tree": tree, "tags": ["x"]}


@env.task
def describe_order(order: Order) -> str:
    """What the receiving task sees: which optional keys are there, and the nested values' types."""
    s = order["settings"]
    leaf = order["tree"]["children"][0]
    return (f"id={order['id']} keys={sorted(s)} note={'note' in s and s['note']!r} nodes={count(order['tree'])} "
            f"leaf_keys={sorted(leaf)} placed={order['placed'].isoformat()}")


@env.task
def order_pipeline(n: int) -> list[str]:
    """Passes TypedDicts from one task to another."""
    return [describe_order(make_order(n)), describe_order(make_order(n + 1))]


# --- NamedTuple returns -----------------------------------------------------------------------------


class Stats(NamedTuple):
    mean: float
    count: int


class Only(NamedTuple):
    value: int


@env.task
def stats(xs: list[float]) -> Stats:
    """Two named outputs."""
    return Stats(sum(xs) / len(xs), len(xs))


@env.task
def only(x: int) -> Only:
    """One named output."""
    return Only(x)


@env.task
def mean_of(s: Stats) -> float:
    """Takes a Stats, or a plain (mean, count) tuple."""
    return s.mean


@env.task
def use_stats(xs: list[float]) -> str:
    """What a calling task gets from NamedTuple returns."""
    s = stats(xs)
    o = only(41)
    return f"{type(s).__name__} mean={s.mean} count={s[1]} only={o + 1} again={mean_of((s.mean * 2, 1))}"


# --- Callable inputs -------------------------------------------------------------------------------


@env.task
def add_one(x: int) -> int:
    return x + 1


@env.task
def apply(f: Callable[[int], int], x: int) -> int:
    """Calls whatever function it is given, in its own action."""
    return f(x)


def _scaler(k: int) -> Callable[[int], int]:
    def scale(v: int) -> int:
        return v * k

    return scale


@env.task
def apply_all(x: int) -> list[int]:
    """A lambda, a closure, a task and an overridden task, each sent to another task."""
    k = 100
    return [apply(lambda v: v + k, x), apply(_scaler(3), x), apply(add_one, x),
            apply(add_one.override(retries=2), x)]


# --- datetimes and Literals naming Enum members ---------------------------------------------------


@env.task
def when(t: dt.datetime) -> tuple[str, dt.datetime]:
    """The time zone the task sees, and the time back."""
    return str(t.tzinfo), t


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@env.task
def pick(c: Literal[Color.RED, "other", 3]) -> str:
    return repr(c)


@env.task
def pick_all() -> list[str]:
    """A sibling member of the Enum the Literal names, a str and an int."""
    return [pick(Color.BLUE), pick("other"), pick(3)]
