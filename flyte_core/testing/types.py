"""A conformance suite a type plugin runs against itself, as fsspec's abstract tests are used::

    from flyte_core.testing.types import TypeTransformerSuite

    class TestMoney(TypeTransformerSuite):
        cases = [(Money, Money(3, "EUR"))]
        wrong_values = [(Money, "3 EUR")]

Each case must round-trip through literals (which are plain JSON), nested in list, dict and
Optional, and through a real run on a backend (``backend``, default ``local``), with its data going
through a data store in a temporary folder. Wrong values must be refused with an error that names
the expected type; a literal from another transformer version must be refused.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from flyte_core.errors.core import TypeTransformerError
from flyte_core.run.session import Session
from flyte_core.storage.datastore import DataStore
from flyte_core.task.environment import TaskEnvironment
from flyte_core.types.engine import TypeEngine
from flyte_core.types.interface import output_fields, type_name
from flyte_core.types.transformer import ConversionContext


class TypeTransformerSuite:
    """Subclass as ``Test...`` and set :attr:`cases`; override :meth:`assert_same` for types
    without a meaningful ``==`` (data frames, files)."""

    #: (type hint, value) pairs that must round-trip.
    cases: ClassVar[Sequence[tuple[Any, Any]]] = ()
    #: (type hint, value) pairs that must be refused.
    wrong_values: ClassVar[Sequence[tuple[Any, Any]]] = ()
    #: The backend the run-level checks use.
    backend: ClassVar[str] = "local"

    def assert_same(self, expected: Any, actual: Any) -> None:
        """Fail unless ``actual`` equals ``expected`` (override for frames, files, ...)."""
        assert actual == expected
        assert type(actual) is type(expected)

    # --- fixtures --------------------------------------------------------------------------------

    @pytest.fixture
    def session(self, tmp_path: Path) -> Iterator[Session]:
        """A session with its stores in a temporary folder."""
        s = Session(backend=self.backend, data_url=str(tmp_path / "data"), run_store=str(tmp_path / "runs.db"),
                    root_dir=tmp_path)
        try:
            yield s
        finally:
            s.close()

    @pytest.fixture
    def engine(self, session: Session) -> TypeEngine:
        """The session's type engine (with every installed plugin)."""
        return session.engine

    @pytest.fixture
    def ctx(self, tmp_path: Path) -> ConversionContext:
        """A conversion context writing to a temporary data store."""
        return ConversionContext(store=DataStore(str(tmp_path / "store")), prefix=str(tmp_path / "store" / "x"))

    # --- the checks ------------------------------------------------------------------------------

    def _round_trip(self, engine: TypeEngine, ctx: ConversionContext, hint: Any, value: Any) -> Any:
        literal = engine.to_literal(value, hint, ctx)
        wire = json.loads(json.dumps(literal))  # a literal is plain JSON
        return engine.to_python(wire, hint, ctx)

    def test_cases_are_given(self) -> None:
        """A suite without cases checks nothing."""
        assert self.cases, f"{type(self).__name__} sets no cases"

    def test_round_trip(self, engine: TypeEngine, ctx: ConversionContext) -> None:
        """Every case converts to JSON-only literals and back to an equal value."""
        for hint, value in self.cases:
            self.assert_same(value, self._round_trip(engine, ctx, hint, value))

    def test_nested_in_containers(self, engine: TypeEngine, ctx: ConversionContext) -> None:
        """Every case survives inside list, dict and Optional."""
        for hint, value in self.cases:
            back = self._round_trip(engine, ctx, list[hint], [value, value])  # type: ignore[valid-type]
            for b in back:
                self.assert_same(value, b)
            back = self._round_trip(engine, ctx, dict[str, hint], {"k": value})  # type: ignore[valid-type]
            self.assert_same(value, back["k"])
            opt = typing.Optional[hint]  # type: ignore[valid-type]  # noqa: UP045 - the typing form on purpose
            assert self._round_trip(engine, ctx, opt, None) is None
            self.assert_same(value, self._round_trip(engine, ctx, opt, value))

    def test_through_a_run(self, session: Session) -> None:
        """Every case crosses an action boundary both ways on :attr:`backend`."""
        for i, (hint, value) in enumerate(self.cases):
            task = _identity_task(hint, i)
            outs = session.run(task, x=value).outputs()
            # A NamedTuple return is one output per field (as in Flyte 2): rebuild it from them.
            self.assert_same(value, hint(*outs) if output_fields(hint) is not None else outs[0])

    def test_wrong_values_are_refused(self, engine: TypeEngine, ctx: ConversionContext) -> None:
        """A value of the wrong type is refused with a message naming the expected type."""
        for hint, bad in self.wrong_values:
            with pytest.raises((TypeError, ValueError)) as ei:
                engine.to_literal(bad, hint, ctx)
            name = type_name(hint)
            assert name in str(ei.value) or getattr(hint, "__name__", name) in str(ei.value), str(ei.value)

    def test_other_wire_versions_are_refused(self, engine: TypeEngine, ctx: ConversionContext) -> None:
        """A literal claiming another transformer version is refused, not mis-read."""
        for hint, value in self.cases:
            literal = engine.to_literal(value, hint, ctx)
            literal["v"] = int(literal["v"]) + 1000
            with pytest.raises(TypeTransformerError, match="version"):
                engine.to_python(literal, hint, ctx)


_ENV = TaskEnvironment(name="conformance")


def _identity_task(hint: Any, i: int) -> Any:
    def identity(x: Any) -> Any:
        return x

    identity.__name__ = identity.__qualname__ = f"identity_{i}"
    identity.__annotations__ = {"x": hint, "return": hint}
    return _ENV.task(identity)
