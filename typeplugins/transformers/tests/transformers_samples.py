"""Flyte 2-style transformers and tasks using them, written as a Flyte 2 user writes them. Imported
by the tests and, by file, by worker processes (which register the transformers again there)."""

from __future__ import annotations

from typing import Annotated, Optional

from flyteidl2.core.literals_pb2 import Literal, LiteralCollection, Primitive, Scalar
from flyteidl2.core.types_pb2 import LiteralType, SimpleType
from pydantic import BaseModel

import flyte
from flyte.types import TypeEngine, TypeTransformer, TypeTransformerFailedError

env = flyte.TaskEnvironment(name="flyte2_transformers")


class Point:
    """A plain class: no flyte-core plugin knows it."""

    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __repr__(self) -> str:
        return f"Point({self.x}, {self.y})"


class Point3(Point):
    """A subclass: found through the registered base class."""


class PointTransformer(TypeTransformer[Point]):
    """Async, as Flyte 2 declares the methods: a point as the string "x,y"."""

    def __init__(self) -> None:
        super().__init__("Point", Point)

    def get_literal_type(self, t: type[Point] | None = None) -> LiteralType:
        return LiteralType(simple=SimpleType.STRING)

    async def to_literal(self, python_val: Point, python_type: type[Point], expected: LiteralType) -> Literal:
        return Literal(scalar=Scalar(primitive=Primitive(string_value=f"{python_val.x},{python_val.y}")))

    async def to_python_value(self, lv: Literal, expected_python_type: type[Point]) -> Point:
        x, y = lv.scalar.primitive.string_value.split(",")
        return expected_python_type(float(x), float(y))


TypeEngine.register(PointTransformer())


class Celsius:
    def __init__(self, degrees: float) -> None:
        self.degrees = degrees


class CelsiusTransformer(TypeTransformer[Celsius]):
    """Plain (not async) methods, and a refusal of out-of-range values."""

    def __init__(self) -> None:
        super().__init__("Celsius", Celsius)

    def get_literal_type(self, t: object = None) -> LiteralType:
        return LiteralType(simple=SimpleType.FLOAT)

    def to_literal(self, python_val: Celsius, python_type: object, expected: object) -> Literal:  # type: ignore[override]
        if python_val.degrees < -273.15:
            raise TypeTransformerFailedError(f"{python_val.degrees} is below absolute zero")
        return Literal(scalar=Scalar(primitive=Primitive(float_value=python_val.degrees)))

    def to_python_value(self, lv: Literal, expected_python_type: object) -> Celsius:  # type: ignore[override]
        return Celsius(lv.scalar.primitive.float_value)


TypeEngine.register(CelsiusTransformer())


class Path2D(list[Point]):
    """A container whose transformer delegates its items to TypeEngine, as Flyte 2 code does."""


class Path2DTransformer(TypeTransformer[Path2D]):
    def __init__(self) -> None:
        super().__init__("Path2D", Path2D)

    def get_literal_type(self, t: object = None) -> LiteralType:
        return LiteralType(collection_type=TypeEngine.to_literal_type(Point))

    async def to_literal(self, python_val: Path2D, python_type: object, expected: object) -> Literal:
        item_type = TypeEngine.to_literal_type(Point)
        items = [await TypeEngine.to_literal(p, Point, item_type) for p in python_val]
        return Literal(collection=LiteralCollection(literals=items))

    async def to_python_value(self, lv: Literal, expected_python_type: object) -> Path2D:
        return Path2D([await TypeEngine.to_python_value(x, Point) for x in lv.collection.literals])


TypeEngine.register(Path2DTransformer())


class Reversed(TypeTransformer[str]):
    """Chosen only through ``Annotated[str, Reversed()]``: stores the string reversed."""

    def __init__(self) -> None:
        super().__init__("Reversed", str)

    def get_literal_type(self, t: object = None) -> LiteralType:
        return LiteralType(simple=SimpleType.STRING)

    async def to_literal(self, python_val: str, python_type: object, expected: object) -> Literal:
        return Literal(scalar=Scalar(primitive=Primitive(string_value=python_val[::-1])))

    async def to_python_value(self, lv: Literal, expected_python_type: object) -> str:
        return lv.scalar.primitive.string_value[::-1]


REVERSED = Reversed()


class Coordinate(BaseModel):
    x: float
    y: float


class CoordinateTransformer(TypeTransformer[Coordinate]):
    """Registered for a Pydantic model, with conversions that must not be needed when the model is
    only a field of another model (which travels as that model's JSON)."""

    def __init__(self) -> None:
        super().__init__("Coordinate", Coordinate)

    def get_literal_type(self, t: object = None) -> LiteralType:
        return LiteralType(simple=SimpleType.STRUCT)

    async def to_literal(self, python_val: Coordinate, python_type: object, expected: object) -> Literal:
        raise NotImplementedError

    async def to_python_value(self, lv: Literal, expected_python_type: object) -> Coordinate:
        raise NotImplementedError


TypeEngine.register(CoordinateTransformer())


class Document:
    def __init__(self, version: str, text: str) -> None:
        self.version, self.text = version, text


class DocumentTransformer(TypeTransformer[Document]):
    """Sets the literal's own hash (Flyte 2's cache key): documents of one version are the same."""

    def __init__(self) -> None:
        super().__init__("Document", Document)

    def get_literal_type(self, t: object = None) -> LiteralType:
        return LiteralType(simple=SimpleType.STRING)

    async def to_literal(self, python_val: Document, python_type: object, expected: object) -> Literal:
        text = f"{python_val.version}\n{python_val.text}"
        return Literal(scalar=Scalar(primitive=Primitive(string_value=text)), hash=f"doc-{python_val.version}")

    async def to_python_value(self, lv: Literal, expected_python_type: object) -> Document:
        version, text = lv.scalar.primitive.string_value.split("\n", 1)
        return Document(version, text)


TypeEngine.register(DocumentTransformer())


class Route(BaseModel):
    name: str
    stops: list[Coordinate]
    home: Optional[Coordinate] = None  # noqa: UP045 - written as Flyte 2 users write it


@env.task
def shift(p: Point, by: float) -> Point:
    return Point(p.x + by, p.y + by)


@env.task
def warmer(t: Celsius) -> Celsius:
    return Celsius(t.degrees + 1)


@env.task
def longest(paths: list[Path2D]) -> Path2D:
    return max(paths, key=len)


@env.task
def kind(p: Point) -> str:
    return type(p).__name__


@env.task
def echo_reversed(s: Annotated[str, REVERSED]) -> Annotated[str, REVERSED]:
    return s.upper()


@env.task
def route_summary(r: Route) -> str:
    return f"{r.name}: {[(c.x, c.y) for c in r.stops]} home={r.home}"


@env.task(cache=flyte.Cache(behavior="override", version_override="v1"))
def word_count(d: Document) -> int:
    return len(d.text.split())


@env.task
def count_versions() -> list[int]:
    return [word_count(Document("v1", "one two three")), word_count(Document("v1", "four five")),
            word_count(Document("v2", "four five"))]


@env.task
def pipeline(x: float) -> tuple[float, int, float, str, str, str]:
    p = shift(Point(x, x), 1.0)
    path = longest([Path2D([p]), Path2D([p, Point(0, 0)])])
    return (p.x, len(path), warmer(Celsius(x)).degrees, kind(Point3(1, 2)), echo_reversed("abc"),
            route_summary(Route(name="r", stops=[Coordinate(x=1, y=2)])))
