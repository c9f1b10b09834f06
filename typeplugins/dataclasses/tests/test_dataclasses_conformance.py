"""The type conformance suite, run against the dataclass and attrs transformers."""

from __future__ import annotations

import datetime as dt

from dc_models import (
    Account,
    Box,
    Color,
    Counter,
    FrozenPair,
    Ledger,
    Legacy,
    Line,
    Money,
    Node,
    Point,
    Point3,
    Rich,
    SavingsAccount,
    Settings,
    Tree,
    Wallet,
)

from flyte_core.testing.types import TypeTransformerSuite

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


class TestDataclasses(TypeTransformerSuite):
    cases = [
        (Point, Point(1, 2.5)),
        (Line, Line(Point(0, 0.0), Point(3, 4.0), "diagonal")),
        (Rich, Rich([Point(1, 1.0)], {"a": 1}, None, Color.BLUE, WHEN, dt.date(2026, 1, 2), [0.5])),
        (Rich, Rich([], {}, "note", Color.RED, WHEN.astimezone(dt.timezone(dt.timedelta(hours=-5))))),
        (FrozenPair, FrozenPair("l", (1, 2, 3))),
        (Point3, Point3(1, 2.0, 3)),
        (Node, Node("root", [Node("a", [Node("a1", parent_name="a")]), Node("b")])),
        (Box[int], Box(1, [2, 3])),
        (Box[Point], Box(Point(1, 1.0), [Point(2, 2.0)])),
        # big enough (> 256 KiB of JSON) for the engine to offload it to the data store
        (Box[Point], Box(Point(0, 0.0), [Point(i, i / 2) for i in range(15_000)])),
        (Counter, Counter(5)),
        (Settings, Settings(name="s", retries=1)),
    ]
    wrong_values = [
        (Point, {"x": 1}),                    # a dict that lacks a field without a default
        (Point, {"x": 1, "y": 2.5, "z": 0}),  # a dict with a key that is not a field
        (Point, Money(1, "EUR")),             # an instance of another class
        (Line, Point(1, 2.0)),
        (Point, Point("1", 2.5)),             # a field of the wrong type
        (Line, Line(Point(0, 0.0), "b")),     # a nested field of the wrong type
    ]


class TestAttrsClasses(TypeTransformerSuite):
    cases = [
        (Money, Money(3, "USD")),
        (Account, Account("ann", Money(10), [Money(1), Money(2, "USD")], dt.date(2025, 5, 6), "s3cret")),
        (SavingsAccount, SavingsAccount("bob", Money(5), rate=0.2)),
        (Tree, Tree(1, Tree(2), Tree(3, right=Tree(4)))),
        (Ledger, Ledger([Wallet({"main": Account("c", Money(7))})], Point(0, 0.5))),
        (Legacy, Legacy([1, "x"], {"k": None})),
    ]
    wrong_values = [
        (Money, {"amount": 3, "currency": "USD", "cents": 1}),
        (Money, Point(3, 1.0)),
        (Account, Money(1)),
        (Account, Account("ann", 10)),
    ]
