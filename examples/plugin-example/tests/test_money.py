"""Money passes flyte-core's type conformance suite, on this plugin's own backend."""

from __future__ import annotations

from typing import Any, ClassVar

from flyte_example_plugin import Money

from flyte_core.testing.types import TypeTransformerSuite


class TestMoney(TypeTransformerSuite):
    """Round trips (alone, in list/dict/Optional, through a real run) and refusals."""

    cases: ClassVar[list[tuple[Any, Any]]] = [(Money, Money(1999, "EUR")), (Money, Money(0, "JPY"))]
    wrong_values: ClassVar[list[tuple[Any, Any]]] = [(Money, "19.99 EUR"), (Money, Money(1.5, "EUR"))]  # type: ignore[arg-type]
    backend: ClassVar[str] = "example-echo"
