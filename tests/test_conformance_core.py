"""The type conformance suite, run against the core's own transformers."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Literal, NamedTuple

from flyte_core.testing.types import TypeTransformerSuite


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


class Pair(NamedTuple):
    a: int
    b: str


class TestCoreTypes(TypeTransformerSuite):
    cases = [
        (int, 7), (float, 2.5), (str, "text"), (bool, False), (bytes, b"\x00\x01"),
        (list[int], [1, 2]), (dict[str, float], {"a": 1.5}), (tuple[int, str], (1, "a")),
        (dict[int, str], {1: "one"}),
        (dt.datetime, dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)), (dt.date, dt.date(2026, 1, 2)),
        (dt.timedelta, dt.timedelta(hours=1, microseconds=5)),
        (Mood, Mood.SAD), (Literal["x", "y"], "y"), (Pair, Pair(1, "b")),
        (list[str], ["x" * 1000] * 400),  # big enough to be offloaded to the data store
    ]
    wrong_values = [(int, "7"), (list[int], {"a": 1}), (Mood, "happy"), (dt.date, "2026-01-02"), (Pair, (1,))]
