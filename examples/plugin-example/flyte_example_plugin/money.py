"""``Money``: a small value class with no transformer of its own in flyte-core."""

from __future__ import annotations

from typing import Any


class Money:
    """An amount in the smallest unit of ``currency`` (cents for EUR): ``Money(1999, "EUR")``.

    A plain class on purpose (not a dataclass or attrs class), so that only this plugin's
    transformer handles it and no generic type plugin competes for it.
    """

    __slots__ = ("amount", "currency")

    def __init__(self, amount: int, currency: str) -> None:
        self.amount = amount
        self.currency = currency

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return (self.amount, self.currency) == (other.amount, other.currency)

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __repr__(self) -> str:
        return f"Money(amount={self.amount!r}, currency={self.currency!r})"

    def to_payload(self) -> dict[str, Any]:
        """The JSON-able form used on the wire."""
        return {"amount": self.amount, "currency": self.currency}
