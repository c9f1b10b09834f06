"""The type transformer for :class:`~flyte_example_plugin.money.Money`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte_core.extend import ConversionContext, Converter
from flyte_example_plugin.money import Money

if TYPE_CHECKING:
    from flyte_core.extend import TypeEngine


class MoneyTransformer:
    """Converts ``Money`` to the payload ``{"amount": int, "currency": str}`` and back.

    ``name`` is written into every literal; ``version`` is the payload format's version. Bump it
    when the payload changes, so old literals are refused instead of mis-read.
    """

    name = "example.money"
    version = 1

    def compile(self, hint: Any, engine: TypeEngine) -> Converter:
        """Build the converter for ``Money`` (``engine`` is unused: Money has no nested hints)."""

        def accepts(value: Any) -> bool:
            return isinstance(value, Money)

        def to_literal(value: Any, _ctx: ConversionContext) -> dict[str, Any]:
            if not isinstance(value, Money):
                raise TypeError(f"expected Money, got {type(value).__name__}")
            if type(value.amount) is not int or not isinstance(value.currency, str):
                raise TypeError(f"Money needs an int amount and a str currency, got {value!r}")
            return value.to_payload()

        def to_python(payload: Any, _ctx: ConversionContext) -> Money:
            return Money(int(payload["amount"]), str(payload["currency"]))

        literal_type = {"type": "object", "name": "Money", "fields": {"amount": "int", "currency": "str"}}
        return Converter(self.name, self.version, to_literal, to_python, accepts, literal_type)


#: One shared instance: transformers hold no per-hint state (that lives in the Converter).
MONEY = MoneyTransformer()
