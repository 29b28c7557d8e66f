"""Money is a Decimal with a currency, never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from neocloud.domain.errors import DomainError

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class BadMoney(DomainError):
    """A price that cannot be parsed or is out of range."""


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not _CURRENCY.match(self.currency):
            raise BadMoney(f"currency {self.currency!r} is not a 3-letter ISO code such as USD")
        if not self.amount.is_finite():
            raise BadMoney(f"amount {self.amount} is not a finite number")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def times(self, factor: Decimal | int) -> Money:
        return Money(self.amount * Decimal(factor), self.currency)

    @classmethod
    def parse(cls, text: str, default_currency: str = "USD") -> Money:
        """``"2.35"``, ``"2.35 USD"`` or ``"USD 2.35"``; negative amounts are refused."""
        parts = text.strip().split()
        if len(parts) == 2 and _CURRENCY.match(parts[0].upper()):
            currency, number = parts[0].upper(), parts[1]
        elif len(parts) == 2:
            number, currency = parts[0], parts[1].upper()
        elif len(parts) == 1:
            number, currency = parts[0], default_currency
        else:
            raise BadMoney(f"price {text!r}: expected an amount and an optional currency, like '2.35 USD'")
        try:
            amount = Decimal(number)
        except InvalidOperation:
            raise BadMoney(f"price {text!r}: {number!r} is not a number") from None
        if not amount.is_finite() or amount < 0:
            raise BadMoney(f"price {text!r}: must be a finite amount of at least 0")
        return cls(amount, currency)
