"""Pydantic models shared by this plugin's tests: nested, optional, defaulted, validated, strict,
aliased, generic and root models, with the field types pydantic serialises itself."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, computed_field, field_validator, model_validator

#: Addresses the Contact validator saw, in order: proves validators run where a value is received.
SEEN_EMAILS: list[str] = []


class Color(enum.Enum):
    """An enum field."""

    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    """A small nested model with an Optional field."""

    street: str
    city: str
    zip: str | None = None


class Person(BaseModel):
    """Defaults, Optional nested model, enum, Literal, datetime, list and dict fields."""

    name: str
    born: dt.datetime
    tags: list[str] = []
    address: Address | None = None
    kind: Literal["staff", "guest"] = "guest"
    color: Color = Color.RED
    scores: dict[str, float] = {}


class Team(BaseModel):
    """Models nested in a list, a dict and an Optional."""

    name: str
    members: list[Person]
    by_role: dict[str, Person] = {}
    lead: Person | None = None


class Contact(BaseModel):
    """A field_validator that normalises its input."""

    email: str

    @field_validator("email")
    @classmethod
    def normalise(cls, v: str) -> str:
        """Lower-case and strip, recording the raw input."""
        SEEN_EMAILS.append(v)
        return v.strip().lower()


class DateRange(BaseModel):
    """A model_validator that rejects a bad combination of fields."""

    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def ordered(self) -> DateRange:
        """``end`` may not come before ``start``."""
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Strict(BaseModel):
    """Strict validation and base64 bytes: only JSON-mode validation reads these back."""

    model_config = ConfigDict(strict=True, ser_json_bytes="base64", val_json_bytes="base64")

    at: dt.datetime
    blob: bytes
    pair: tuple[int, str]
    ids: set[int]
    price: Decimal
    ref: uuid.UUID
    span: dt.timedelta


class Aliased(BaseModel):
    """Aliases (plain and serialization-only) and a computed field on a model that forbids extras."""

    model_config = ConfigDict(extra="forbid")

    user_name: str = Field(alias="userName")
    display: str = Field(serialization_alias="displayName")
    size: int = 1

    @computed_field  # type: ignore[prop-decorator]
    @property
    def double(self) -> int:
        """Derived, so never sent."""
        return self.size * 2


T = TypeVar("T")


class Item(BaseModel):
    """An element of a generic page."""

    sku: str
    qty: int = 1


class Page(BaseModel, Generic[T]):
    """A generic model, used parametrised as ``Page[Item]``."""

    items: list[T]
    next: str | None = None


class Numbers(RootModel[list[int]]):
    """A root model: its JSON form is a list, not an object."""


class Animal(BaseModel):
    """A base model whose subclass instances are passed where it is expected."""

    name: str


class Dog(Animal):
    """A subclass with a field its base does not have."""

    barks: bool = True
