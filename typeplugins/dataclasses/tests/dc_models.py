"""Record classes the tests convert: dataclasses and attrs classes, nested, frozen, inherited,
generic and recursive. Module level, so their string annotations resolve."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import ClassVar, Generic, Optional, TypeVar

import attr
import attrs

T = TypeVar("T")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: int
    y: float


@dataclasses.dataclass
class Line:
    a: Point
    b: Point
    label: str = ""


@dataclasses.dataclass
class Rich:
    points: list[Point]
    tags: dict[str, int]
    note: Optional[str]  # noqa: UP045 - the typing spelling on purpose
    color: Color
    at: dt.datetime
    day: dt.date | None = None
    weights: list[float] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class FrozenPair:
    left: str
    right: tuple[int, ...]


@dataclasses.dataclass
class Point3(Point):
    z: int = 0


@dataclasses.dataclass
class Node:
    name: str
    children: list[Node] = dataclasses.field(default_factory=list)
    parent_name: str | None = None


@dataclasses.dataclass
class Box(Generic[T]):
    item: T
    items: list[T]


@dataclasses.dataclass
class Counter:
    start: int
    total: int = dataclasses.field(init=False, default=0)


@attrs.frozen
class Money:
    amount: int
    currency: str = "EUR"


@attrs.define
class Account:
    owner: str
    balance: Money
    history: list[Money] = attrs.Factory(list)
    opened: dt.date | None = None
    _secret: str = "hidden"


@attrs.define
class Tree:
    value: int
    left: Tree | None = None
    right: Tree | None = None


@dataclasses.dataclass
class Wallet:
    """A dataclass holding attrs instances (and the other way round in :class:`Ledger`)."""

    accounts: dict[str, Account]


@attrs.frozen
class Ledger:
    wallets: list[Wallet]
    origin: Point


@attrs.define
class SavingsAccount(Account):
    rate: float = 0.01


@dataclasses.dataclass(slots=True, kw_only=True)
class Settings:
    name: str
    retries: int = 3
    kind: ClassVar[str] = "settings"  # a class variable, not a field


@attr.s(auto_attribs=False)
class Legacy:
    """An old-style attrs class without annotations: its fields travel as plain JSON."""

    a = attr.ib()
    b = attr.ib(default=2)
