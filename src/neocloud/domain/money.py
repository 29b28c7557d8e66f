"""Money is a Decimal with a currency, never a float.

A price the operator sets (per GPU-hour) must be more than zero, at most
:data:`MAX_PRICE_PER_GPU_HOUR`, and carry at most two decimal places more than the
currency's minor unit: 4 for USD or EUR (hundredths of a cent, as per-unit rates such
as $2.4975 are quoted), 2 for JPY, 5 for KWD. :func:`price_problems` is that rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from neocloud.domain.errors import DomainError

_CURRENCY = re.compile(r"^[A-Z]{3}$")

#: Far above any real GPU rental price in any currency (an H100 hour is about 2 USD,
#: 300 JPY or 60,000 VND): a bound against typos and overflow, not a pricing policy.
MAX_PRICE_PER_GPU_HOUR = Decimal(1_000_000)
#: Decimal places of a rate beyond the currency's minor unit.
RATE_EXTRA_PLACES = 2
#: ISO 4217 minor units where they are not 2.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


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


def rate_places(currency: str) -> int:
    """The most decimal places a per-unit rate in ``currency`` may carry."""
    return MINOR_UNITS.get(currency, 2) + RATE_EXTRA_PLACES


def round_money(amount: Decimal, currency: str) -> Decimal:
    """THE rounding rule for an amount of money: to the currency's minor unit, half to even."""
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2)), rounding=ROUND_HALF_EVEN)


def round_rate(amount: Decimal, currency: str) -> Decimal:
    """A per-unit rate (per GPU-hour) at a rate's precision (:func:`rate_places`), half to even."""
    return amount.quantize(Decimal(1).scaleb(-rate_places(currency)), rounding=ROUND_HALF_EVEN)


def price_problems(price: Money) -> list[str]:
    """What is wrong with ``price`` as an operator's price per GPU-hour (empty when fine)."""
    amount, places = price.amount, rate_places(price.currency)
    if not Decimal(0) < amount <= MAX_PRICE_PER_GPU_HOUR:
        return [
            f"price: {_plain(amount)} {price.currency} is out of range; give more than 0 and at most "
            f"{MAX_PRICE_PER_GPU_HOUR:,} per GPU-hour"
        ]
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return [
            f"price: {_plain(amount)} has more than {places} decimal places, the precision of a {price.currency} rate"
        ]
    return []


def _plain(amount: Decimal) -> str:
    """A short rendering: ``2.35``, ``1E+308`` (never a 300-digit string)."""
    return str(amount) if len(str(amount)) <= 24 else f"{amount:.6E}"


_SHORT_SCALES = ((Decimal(10**12), "T"), (Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K"))


def short_amount(amount: Decimal) -> str:
    """One compact format for money in human tables, CLI and page alike: ``44.80B``,
    ``9.31M``, ``191.31K``, ``950.00``; two decimals of the scale, so a column never
    mixes ``191,308.80`` with ``9.31M``. Exact figures are in the JSON."""
    for scale, suffix in _SHORT_SCALES:
        if abs(amount) >= scale:
            return f"{amount / scale:,.2f}{suffix}"
    return f"{amount:,.2f}"


def percent(x: float | None) -> str:
    """A share or rate for human tables: ``75.0%``; a share that one decimal would show
    as ``100.0%`` or ``0.0%`` while others exist gets two (``99.97%``, ``0.03%``), and
    one under 0.005% reads ``<0.01%``."""
    if x is None:
        return "none"
    value = 100 * x
    if value != round(value, 1) and round(value, 1) in (0.0, 100.0, -0.0):
        if 0 < abs(value) < 0.005:
            return "<0.01%" if value > 0 else ">-0.01%"
        if 99.995 <= value < 100:
            return ">99.99%"
        return f"{value:.2f}%"
    return f"{value:.1f}%"
