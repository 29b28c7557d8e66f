"""Rating: a lease's metered period in money, from the price it was signed at.

**The price** (:func:`signed_price`) is the price-book version the lease records
(``lease.request.price_version``): for a wholesale lease its card's fee per GPU-month
and ramp; for the other tiers the rate per GPU-hour stored in the lease when it was
booked (prices are recorded, not looked up: docs/ledger.md). A wholesale mix of models
(a whole site) without a card of its own pays each model's card by its GPUs. A lease with an explicit
operator price (no version) pays that price per GPU-hour, on what its tier bills.

**The charge** (one :class:`~neocloud.domain.billing.InvoiceLine` per lease and period,
:func:`rate`):

- wholesale (take-or-pay, whole units): fee per GPU-month x contracted GPUs, prorated
  to the second over the *calendar* month of the period (a full month is the fee to the
  cent; 743 hours of a March in America/Chicago are a full month as much as 744 in UTC),
  less the ramp discount of the contract month each second falls in (contract month k is
  the k-th anniversary month from the contract's start, :mod:`neocloud.economics.months`,
  the months the price book and the deal analysis count in);
- reserved (and wholesale at an explicit price): contracted GPU-seconds x the rate per
  GPU-hour;
- on-demand and spot (usage tiers bill what ran): delivered-healthy GPU-seconds x rate.

Proration to the second for a mid-period start, extend, shrink or termination falls out
of the contract's segments, which those edit.

**The rounding rule**, stated once: every amount is computed exactly in ``Decimal``
(at :data:`PRECISION` significant digits) and rounded once per line, half to even, to
the currency's minor unit (:func:`~neocloud.domain.money.round_money`: cents for USD);
nothing before the line is rounded, and a total is the sum of its lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext

from neocloud.billing.metering import Usage
from neocloud.domain.billing import InvoiceLine, LineKind
from neocloud.domain.leases import Lease, Tier
from neocloud.domain.money import Money, round_money, round_rate
from neocloud.economics.months import HOURS_PER_MONTH, add_months, contract_month, month_starts
from neocloud.economics.pricebook import (
    Price,
    PriceBook,
    PriceRefused,
    RampStep,
    WholesaleCard,
    price_for,
    ramp_discount,
)

#: Significant digits of the exact arithmetic before a line is rounded: a $12.5B fee
#: (the price book's bound) to 10^-20 of a cent.
PRECISION = 40
#: Tiers billed on what was contracted (take-or-pay); the others bill what was delivered.
COMMITTED_TIERS = frozenset({Tier.WHOLESALE, Tier.RESERVED})


def signed_price(lease: Lease, versions: Sequence[PriceBook], mix: Mapping[str, int] | None = None) -> Price:
    """The price ``lease`` was signed at (see the module docstring). A wholesale lease
    whose version has a card for its model (``H100``, or the whole mix ``H100+H200``
    as one card) is priced from that card; one whose ``mix`` (GPUs per model of its
    nodes) has a card for each model, from their GPU-weighted fee and ramp; any other
    lease from its recorded rate. A wholesale lease whose version or card cannot be
    found is a :class:`PriceRefused` saying what is missing (never billed at a guess)."""
    request = lease.request
    if request.tier is not Tier.WHOLESALE or request.price_version is None:
        return Price(request.tier, lease.model, request.price_version or 0, lease.price_per_gpu_hour)
    book = next((b for b in versions if b.version == request.price_version), None)
    if book is None:
        given = ", ".join(str(b.version) for b in versions) or "none"
        raise PriceRefused(
            f"lease {lease.id}: signed at price-book version {request.price_version}, not among those given ({given})"
        )
    cards = {c.model.casefold(): c for c in book.cards.wholesale}
    card = cards.get(lease.model.casefold())
    if card is not None:
        return price_for(book, Tier.WHOLESALE, card.model, lease.start_s, lease.end_s)
    held = {m: n for m, n in (mix or {}).items() if n > 0}
    missing = sorted(m for m in held if m.casefold() not in cards)
    if held and not missing:
        return _blended(lease, book.version, [(cards[m.casefold()], n) for m, n in held.items()])
    what = f"no wholesale card for {', '.join(missing)}" if missing else f"no wholesale card for {lease.model}"
    hint = "" if held else "; give the GPUs per model of its nodes (mix) to price it from each model's card"
    raise PriceRefused(f"lease {lease.id}: version {book.version} has {what}{hint}")


def _blended(lease: Lease, version: int, parts: Sequence[tuple[WholesaleCard, int]]) -> Price:
    """One wholesale price for a mix of models: the fee per GPU-month weighted by GPUs,
    and each ramp month's discount weighted by the fee it reduces (exact)."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        weights = [(card, card.gpu_month.amount * n) for card, n in parts]
        whole = sum((w for _, w in weights), Decimal(0))
        gpus = sum(n for _, n in parts)
        fee = whole / gpus
        months = sorted({r.month for card, _ in weights for r in card.ramp})
        ramp = tuple(
            RampStep(m, sum((w * ramp_discount(card.ramp, m) for card, w in weights), Decimal(0)) / whole)
            for m in months
        )
    currency = parts[0][0].gpu_month.currency
    hourly = Money(round_rate(fee / HOURS_PER_MONTH, currency), currency)
    return Price(Tier.WHOLESALE, lease.model, version, hourly, per_gpu_month=Money(fee, currency), ramp=ramp)


def rate(lease: Lease, usage: Usage, price: Price) -> InvoiceLine:
    """The charge line of ``lease`` for ``usage``'s period at ``price``."""
    currency = price.rate.currency
    with localcontext() as ctx:
        ctx.prec = PRECISION
        if price.per_gpu_month is not None:
            gpu_s, exact, text = _wholesale(lease, usage, price)
        elif lease.request.tier in COMMITTED_TIERS:
            gpu_s = usage.contracted_gpu_s
            exact, text = Decimal(gpu_s) * price.rate.amount / 3600, "contracted"
        else:
            gpu_s = usage.delivered_gpu_s
            exact, text = Decimal(gpu_s) * price.rate.amount / 3600, "delivered"
        amount = round_money(exact, currency)
    if price.per_gpu_month is None:
        text = f"{_hours(gpu_s)} GPU-h {text} at {price.rate.amount} {currency}/GPU-h"
    description = f"{lease.request.tier.value} {lease.model}: {text}"
    return InvoiceLine(LineKind.CHARGE, lease.id, usage.period.label, description, gpu_s, Money(amount, currency))


def _wholesale(lease: Lease, usage: Usage, price: Price) -> tuple[int, Decimal, str]:
    """Contracted GPU-seconds, the exact fee and a description: each piece of a
    contract segment inside the period and inside one contract month pays its share
    of the calendar month at that month's ramp discount."""
    assert price.per_gpu_month is not None
    period, start = usage.period, lease.start_s
    fee = price.per_gpu_month.amount
    gpu_s, exact, ramped = 0, Decimal(0), set()
    starts = month_starts(start, lease.end_s)
    for seg in lease.contract:
        span = period.clip(seg.start_s, min(seg.end_s, usage.end_s))  # the period so far: to its until_s
        if span is None:
            continue
        lo, hi = span
        while lo < hi:
            month = contract_month(starts, lo)
            upto = min(hi, add_months(start, month))
            off = ramp_discount(price.ramp, month)
            if off:
                ramped.add(month)
            gpu_s += seg.gpus * (upto - lo)
            exact += fee * seg.gpus * (upto - lo) / period.seconds * (1 - off)
            lo = upto
    text = f"{_hours(gpu_s)} GPU-h contracted at {price.per_gpu_month.amount:.2f} /GPU-month"
    if ramped:
        text += "; ramp month " + ", ".join(f"{m} -{ramp_discount(price.ramp, m):.0%}" for m in sorted(ramped))
    return gpu_s, exact, text


def _hours(gpu_s: int) -> str:
    hours = Decimal(gpu_s) / 3600
    return f"{hours:,.0f}" if hours == hours.to_integral_value() else f"{hours:,.2f}"
