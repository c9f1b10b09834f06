"""flyte-core's type conformance suite, run against the pydantic transformer."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pydantic_examples import (
    Address,
    Aliased,
    Animal,
    Color,
    Contact,
    DateRange,
    Item,
    Numbers,
    Page,
    Person,
    Strict,
    Team,
)

from flyte_core.testing.types import TypeTransformerSuite

BORN = dt.datetime(1990, 5, 17, 8, 30, tzinfo=dt.UTC)
ADA = Person(name="Ada", born=BORN, tags=["math"], address=Address(street="1 Main", city="London", zip="N1"),
             kind="staff", color=Color.BLUE, scores={"q1": 9.5})
BOB = Person(name="Bob", born=BORN)  # every default left as is


class TestPydanticModels(TypeTransformerSuite):
    cases = [
        (Address, Address(street="2 High St", city="Oxford")),
        (Person, ADA),
        (Person, BOB),
        (Team, Team(name="core", members=[ADA, BOB], by_role={"lead": ADA, "dev": BOB}, lead=ADA)),
        (Team, Team(name="empty", members=[])),
        (Contact, Contact(email="ada@example.org")),
        (DateRange, DateRange(start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 1))),
        (Strict, Strict(at=BORN, blob=b"\xff\x00\x10", pair=(1, "a"), ids={3, 1}, price=Decimal("12.30"),
                        ref=uuid.UUID(int=42), span=dt.timedelta(hours=2, microseconds=7))),
        (Aliased, Aliased(userName="ada", display="Ada L.", size=3)),
        (Page[Item], Page[Item](items=[Item(sku="a"), Item(sku="b", qty=4)], next="p2")),
        (Numbers, Numbers([3, 1, 2])),
        (Animal, Animal(name="generic")),
        # Big enough for the engine to offload the payload to the data store.
        (Team, Team(name="big", members=[Person(name="x" * 1000, born=BORN)] * 300)),
    ]
    wrong_values = [
        (Person, {"name": "Ada"}),  # a dict that does not validate (no 'born')
        (Person, Address(street="s", city="c")),
        (Contact, "ada@example.org"),
        (Page[Item], Page[int](items=[1])),
        (Numbers, [1, 2]),
        (Person, Person.model_construct(name="Ada", born="yesterday")),  # pydantic cannot write it as JSON
    ]
