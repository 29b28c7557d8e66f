"""The price book: the operator's rate cards per tier and GPU model, in immutable versions.

Tiers (:class:`~neocloud.domain.leases.Tier`):

- **wholesale** take-or-pay: whole units (a site, pod or block) at a rate per GPU-month,
  or a monthly fee for a unit of ``unit_gpus`` GPUs; ramp discounts by contract month.
- **reserved** by term: a base rate per GPU-hour and a discount by term length (the row
  with the longest ``min_term_days`` the lease's term reaches applies).
- **on-demand**: a rate per GPU-hour.
- **spot**: a discount off the on-demand rate of the same model, evicted on
  ``eviction_notice_s`` seconds' notice.

A :class:`PriceBook` is one version: its number, the instant it takes effect, the cards,
who published it and why. Versions are never changed: a new one is published, taking
effect now or later, and the book in force at ``t`` is the latest version whose
``effective_s <= t`` (:func:`in_force`).

Rounding, stated once: a derived rate (base x (1 - discount), a monthly fee / 730.5 h)
is rounded half-even to the currency's rate precision (:func:`~neocloud.domain.money.rate_places`,
4 places for USD); each charge line (one contract month, an anniversary month of
economics/months.py, :func:`charges`) is rounded
half-even to the currency's minor unit (cents); a total is the sum of its lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

from neocloud.domain.counts import split_in_proportion
from neocloud.domain.errors import DomainError
from neocloud.domain.leases import Segment, Tier
from neocloud.domain.money import Money, price_problems, rate_places, round_money, round_rate
from neocloud.economics.months import HOURS_PER_MONTH, contract_months

#: Discounts are fractions in [0, 1) with at most this many decimal places.
DISCOUNT_PLACES = 4
#: At most this many rows in a term table or a ramp (a row a month for ten years).
MAX_ROWS = 120
#: A monthly fee of a whole unit: up to ten times the largest disclosed deal
#: ($1.25B a month, economics.md §2.3 [R50]): a bound against typos, not a policy.
MAX_MONTHLY_FEE = Decimal(12_500_000_000)
#: Spot eviction notice: at most a day.
MAX_NOTICE_S = 86_400


class PriceRefused(DomainError):
    """The book in force has no price for what was asked (no card for the tier and model)."""


@dataclass(frozen=True, slots=True)
class OnDemandCard:
    model: str
    rate: Money  # per GPU-hour


@dataclass(frozen=True, slots=True)
class TermDiscount:
    """From a term of ``min_term_days`` on, ``discount`` off the base rate."""

    min_term_days: int
    discount: Decimal


@dataclass(frozen=True, slots=True)
class ReservedCard:
    model: str
    base: Money  # per GPU-hour, before the term discount
    discounts: tuple[TermDiscount, ...]


@dataclass(frozen=True, slots=True)
class SpotCard:
    model: str
    discount: Decimal  # off the on-demand rate of the same model
    eviction_notice_s: int


@dataclass(frozen=True, slots=True)
class RampStep:
    """In contract month ``month`` (1 = the first 730.5 h), ``discount`` off the fee."""

    month: int
    discount: Decimal


@dataclass(frozen=True, slots=True)
class WholesaleCard:
    """Whole units, take-or-pay: ``per_gpu_month``, or ``monthly_fee`` for a unit of
    ``unit_gpus`` GPUs (exactly one of the two forms)."""

    model: str
    per_gpu_month: Money | None = None
    monthly_fee: Money | None = None
    unit_gpus: int | None = None
    ramp: tuple[RampStep, ...] = ()

    @property
    def gpu_month(self) -> Money:
        """The fee per GPU per contract month (exact; a unit fee divided by its GPUs)."""
        if self.per_gpu_month is not None:
            return self.per_gpu_month
        if self.monthly_fee is None or not self.unit_gpus:
            raise PriceRefused(f"wholesale {self.model}: the card gives neither per_gpu_month nor monthly_fee")
        return Money(self.monthly_fee.amount / self.unit_gpus, self.monthly_fee.currency)


@dataclass(frozen=True, slots=True)
class RateCards:
    """Every card of one version, grouped by tier (as in a rate-card file)."""

    wholesale: tuple[WholesaleCard, ...] = ()
    reserved: tuple[ReservedCard, ...] = ()
    on_demand: tuple[OnDemandCard, ...] = ()
    spot: tuple[SpotCard, ...] = ()

    @property
    def currency(self) -> str:
        """The currency of the cards (a version has one; USD when it has no amount)."""
        for o in self.on_demand:
            return o.rate.currency
        for r in self.reserved:
            return r.base.currency
        for w in self.wholesale:
            return w.gpu_month.currency
        return "USD"

    def models(self) -> list[str]:
        """Every GPU model any card prices, in first-seen order."""
        seen: dict[str, None] = {}
        for group in (self.on_demand, self.reserved, self.spot, self.wholesale):
            for card in group:
                seen.setdefault(card.model, None)
        return list(seen)


@dataclass(frozen=True, slots=True)
class PriceBook:
    """One immutable version of the price book."""

    version: int
    effective_s: int
    cards: RateCards
    author: str = ""
    note: str = ""
    created_s: int = 0


@dataclass(frozen=True, slots=True)
class Price:
    """What ``tier`` costs for ``model`` over a term, from book ``version``.

    ``rate`` is per GPU-hour (for wholesale: the GPU-month fee / 730.5 h, before the ramp);
    ``discount`` the term (reserved) or spot discount applied to get it; ``per_gpu_month``
    and ``ramp`` are wholesale's; ``eviction_notice_s`` spot's."""

    tier: Tier
    model: str
    version: int
    rate: Money
    discount: Decimal = Decimal(0)
    term_days: int = 0
    per_gpu_month: Money | None = None
    ramp: tuple[RampStep, ...] = ()
    eviction_notice_s: int | None = None

    def monthly_fee(self, gpus: int, month: int) -> Money | None:
        """Wholesale: the fee for ``gpus`` GPUs in contract month ``month``, rounded to cents."""
        if self.per_gpu_month is None:
            return None
        gross = self.per_gpu_month.amount * gpus * (1 - ramp_discount(self.ramp, month))
        return Money(round_money(gross, self.per_gpu_month.currency), self.per_gpu_month.currency)


@dataclass(frozen=True, slots=True)
class Charge:
    """One contract month of a term: its GPU-hours, the discount, the amount (rounded)."""

    model: str
    month: int
    start_s: int
    end_s: int
    gpu_s: int  # GPU-seconds: exact
    discount: Decimal
    amount: Money

    @property
    def gpu_hours(self) -> Decimal:
        return Decimal(self.gpu_s) / 3600


@dataclass(frozen=True, slots=True)
class Priced:
    """A term priced: the price of each GPU model in it, the lease's rate per GPU-hour
    (GPU-weighted over the models, rounded to the rate precision), the charge lines
    (per model, per contract month) and their total."""

    prices: tuple[Price, ...]
    rate: Money
    lines: tuple[Charge, ...]
    total: Money
    gpu_hours: Decimal


@dataclass(frozen=True, slots=True)
class Margin:
    """The operator's margin over TCO: per GPU-hour (rate - TCO) and over the term
    (total - TCO x GPU-hours, rounded to cents), and as a share of the rate."""

    tco_per_gpu_hour: Money
    per_gpu_hour: Money
    total: Money
    share: Decimal


@dataclass(frozen=True, slots=True)
class PriceRow:
    """One line of a rate card as people read it: each reserved term row, each
    on-demand, spot and wholesale card, with its rate per GPU-hour."""

    tier: Tier
    model: str
    term: str
    rate: Money
    terms: str
    min_term_days: int = 0


def price_rows(cards: RateCards, tier: Tier | None = None, model: str | None = None) -> list[PriceRow]:
    """The rows of ``cards`` (only ``tier`` and ``model`` when given), wholesale first."""
    rows: list[PriceRow] = []

    def keep(t: Tier, m: str) -> bool:
        return (tier is None or tier is t) and (model is None or model == m)

    for w in cards.wholesale:
        if keep(Tier.WHOLESALE, w.model):
            month = w.gpu_month
            rate = Money(round_rate(month.amount / HOURS_PER_MONTH, month.currency), month.currency)
            ramp = ", ".join(f"month {r.month} -{r.discount:.0%}" for r in w.ramp)
            unit = f"{w.unit_gpus}-GPU unit" if w.unit_gpus else "whole units"
            text = f"{round_money(month.amount, month.currency):,}/GPU-month" + (f"; ramp {ramp}" if ramp else "")
            rows.append(PriceRow(Tier.WHOLESALE, w.model, unit, rate, text))
    for r in cards.reserved:
        for d in r.discounts if keep(Tier.RESERVED, r.model) else ():
            off = f"-{d.discount:.1%}" if d.discount else ""
            rows.append(
                PriceRow(
                    Tier.RESERVED,
                    r.model,
                    f">= {d.min_term_days} d",
                    discounted(r.base, d.discount),
                    off,
                    d.min_term_days,
                )
            )
    on_demand = {o.model: o.rate for o in cards.on_demand}
    for o in cards.on_demand:
        if keep(Tier.ON_DEMAND, o.model):
            rows.append(PriceRow(Tier.ON_DEMAND, o.model, "any", o.rate, ""))
    for sp in cards.spot:
        if keep(Tier.SPOT, sp.model) and sp.model in on_demand:
            text = f"-{sp.discount:.0%}, {sp.eviction_notice_s:,} s notice"
            rows.append(PriceRow(Tier.SPOT, sp.model, "any", discounted(on_demand[sp.model], sp.discount), text))
    return rows


def in_force(versions: Sequence[PriceBook], t_s: int) -> PriceBook | None:
    """The latest version whose ``effective_s <= t_s`` (ties: the higher version), or ``None``."""
    best: PriceBook | None = None
    for book in versions:
        if book.effective_s <= t_s and (
            best is None or (book.effective_s, book.version) > (best.effective_s, best.version)
        ):
            best = book
    return best


def price_for(book: PriceBook, tier: Tier, model: str, start_s: int, end_s: int) -> Price:
    """The price of ``tier`` for ``model`` over ``[start_s, end_s)`` in ``book``; a
    :class:`PriceRefused` naming what is missing when the book has no card for it."""
    if tier is Tier.ON_DEMAND:
        return Price(tier, model, book.version, _card(book, book.cards.on_demand, tier, model).rate)
    if tier is Tier.RESERVED:
        return _reserved(book, _card(book, book.cards.reserved, tier, model), start_s, end_s)
    if tier is Tier.SPOT:
        spot = _card(book, book.cards.spot, tier, model)
        base = _card(book, book.cards.on_demand, Tier.ON_DEMAND, model).rate
        rate = discounted(base, spot.discount)
        return Price(tier, model, book.version, rate, spot.discount, eviction_notice_s=spot.eviction_notice_s)
    card = _card(book, book.cards.wholesale, tier, model)
    month = card.gpu_month
    rate = Money(round_rate(month.amount / HOURS_PER_MONTH, month.currency), month.currency)
    return Price(tier, model, book.version, rate, per_gpu_month=month, ramp=card.ramp)


def price_term(book: PriceBook, tier: Tier, gpus_by_model: dict[str, int], contract: Sequence[Segment]) -> Priced:
    """Price a placed term: ``gpus_by_model`` are the GPUs of each model it holds (a
    whole-site lease may mix models), ``contract`` its segments (their GPUs split over
    the models in proportion)."""
    if not contract:
        raise PriceRefused("nothing to price: the term holds no GPUs")
    start_s, end_s = contract[0].start_s, contract[-1].end_s
    prices = [price_for(book, tier, model, start_s, end_s) for model in gpus_by_model]
    return priced_at(prices, gpus_by_model, contract)


def priced_at(prices: Sequence[Price], gpus_by_model: dict[str, int], contract: Sequence[Segment]) -> Priced:
    """The term at these prices (one per model of ``gpus_by_model``, in its order)."""
    held = sum(gpus_by_model.values())
    if not held or not contract or len(prices) != len(gpus_by_model):
        raise PriceRefused("nothing to price: the term holds no GPUs")
    lines: list[Charge] = []
    parts = [split_in_proportion(s.gpus, gpus_by_model) for s in contract]
    for price, model in zip(prices, gpus_by_model, strict=True):
        share = [Segment(s.start_s, s.end_s, part[model]) for s, part in zip(contract, parts, strict=True)]
        lines += charges(price, share)
    currency = prices[0].rate.currency
    if any(p.rate.currency != currency for p in prices):
        raise PriceRefused("the models of this term are priced in different currencies")
    weighted = sum((p.rate.amount * g for p, g in zip(prices, gpus_by_model.values(), strict=True)), Decimal(0))
    one = {p.rate for p in prices}  # one rate: as the card writes it
    rate = one.pop() if len(one) == 1 else Money(round_rate(weighted / held, currency), currency)
    hours = Decimal(sum(c.gpu_s for c in lines)) / 3600
    return Priced(tuple(prices), rate, tuple(lines), total(lines, currency), hours)


def margin(priced: Priced, tco_by_model: dict[str, Money | None]) -> Margin | None:
    """The margin over TCO, or ``None`` when the TCO of a model is unknown (or in another currency)."""
    currency = priced.rate.currency
    tco: dict[str, Decimal] = {}
    for model in dict.fromkeys(c.model for c in priced.lines):
        cost = tco_by_model.get(model)
        if cost is None or cost.currency != currency:
            return None
        tco[model] = cost.amount
    cost_total = round_money(sum((tco[c.model] * c.gpu_s for c in priced.lines), Decimal(0)) / 3600, currency)
    hours = priced.gpu_hours
    per_hour = round_rate(cost_total / hours, currency) if hours else Decimal(0)
    gross = priced.rate.amount - per_hour
    share = (
        (gross / priced.rate.amount).quantize(Decimal("0.0001"), ROUND_HALF_EVEN) if priced.rate.amount else Decimal(0)
    )
    return Margin(
        Money(per_hour, currency), Money(gross, currency), Money(priced.total.amount - cost_total, currency), share
    )


def charges(price: Price, contract: Sequence[Segment]) -> tuple[Charge, ...]:
    """The term's charge lines, one per contract month (economics/months.py: anniversary
    months from the first segment's start).

    A wholesale line is the GPU-month fee x the GPUs held x the share of the contract
    month they are held for (seconds over the month's seconds) x (1 - that month's ramp
    discount), so a whole month is the fee to the cent; any other line is its GPU-hours x
    the rate. Each is rounded half-even to cents; the total of a term is their sum."""
    if not contract:
        return ()
    start_s, end_s = contract[0].start_s, contract[-1].end_s
    out: list[Charge] = []
    for k, (t, month_end) in enumerate(contract_months(start_s, end_s), start=1):
        month_s = month_end - t
        u = min(month_end, end_s)
        gpu_s = sum(s.gpus * _overlap(s, t, u) for s in contract)
        off = ramp_discount(price.ramp, k)
        if price.per_gpu_month is None:
            gross = Decimal(gpu_s) / 3600 * price.rate.amount
        else:
            gross = price.per_gpu_month.amount * Decimal(gpu_s) / Decimal(month_s)
        amount = round_money(gross * (1 - off), price.rate.currency)
        out.append(Charge(price.model, k, t, u, gpu_s, off, Money(amount, price.rate.currency)))
    return tuple(out)


def total(lines: Sequence[Charge], currency: str) -> Money:
    """The sum of the lines (each already rounded)."""
    return Money(sum((c.amount.amount for c in lines), Decimal(0)), currency)


def discounted(base: Money, discount: Decimal) -> Money:
    """``base`` x (1 - ``discount``), rounded to the currency's rate precision (``base``
    itself, as written, when there is no discount)."""
    if not discount:
        return base
    return Money(round_rate(base.amount * (1 - discount), base.currency), base.currency)


def ramp_discount(ramp: Sequence[RampStep], month: int) -> Decimal:
    """The ramp discount of contract month ``month`` (0 past the ramp)."""
    return next((r.discount for r in ramp if r.month == month), Decimal(0))


# -- validation ---------------------------------------------------------------------
def book_problems(cards: RateCards) -> list[str]:
    """Every problem with a version's cards, each as ``path: problem`` where the path
    is the card's place in a rate-card file (``reserved[0].discounts[2].discount``)."""
    problems: list[str] = []
    for tier, group in (
        ("wholesale", cards.wholesale),
        ("reserved", cards.reserved),
        ("on_demand", cards.on_demand),
        ("spot", cards.spot),
    ):
        problems += _duplicates(tier, [c.model for c in group])
    for k, w in enumerate(cards.wholesale):
        problems += _wholesale_problems(f"wholesale[{k}]", w)
    for k, r in enumerate(cards.reserved):
        problems += _money(f"reserved[{k}].base", r.base)
        problems += _term_problems(f"reserved[{k}].discounts", r.discounts)
    for k, o in enumerate(cards.on_demand):
        problems += _money(f"on_demand[{k}].rate", o.rate)
    on_demand = {c.model for c in cards.on_demand}
    for k, s in enumerate(cards.spot):
        problems += _discount(f"spot[{k}].discount", s.discount)
        if not 0 <= s.eviction_notice_s <= MAX_NOTICE_S:
            problems.append(f"spot[{k}].eviction_notice_s: must be 0 to {MAX_NOTICE_S:,} seconds")
        if s.model not in on_demand:
            problems.append(f"spot[{k}].model: {s.model!r} has no on_demand card to discount")
    if not any((cards.wholesale, cards.reserved, cards.on_demand, cards.spot)):
        problems.append("cards: a price book needs at least one rate card")
    return problems


def publish_problems(effective_s: int, now_s: int, latest: PriceBook | None, currency: str | None = None) -> list[str]:
    """A new version takes effect now or later, never before the latest one (history is not
    rewritten), and in the latest one's currency: leases signed at either would otherwise
    put two currencies in one book, which its totals (and every deal costed with it) refuse."""
    problems = []
    if latest is not None and currency is not None and currency != latest.cards.currency:
        problems.append(
            f"currency: {currency} differs from version {latest.version}'s {latest.cards.currency}; "
            "the price book keeps one currency"
        )
    if effective_s < now_s:
        problems.append("effective: is in the past; a new version takes effect now or later")
    if latest is not None and effective_s < latest.effective_s:
        problems.append(f"effective: is before version {latest.version}'s; versions take effect in order")
    return problems


C = TypeVar("C", OnDemandCard, ReservedCard, SpotCard, WholesaleCard)


def _card(book: PriceBook, group: Sequence[C], tier: Tier, model: str) -> C:
    found = next((c for c in group if c.model == model), None)
    if found is None:
        priced = ", ".join(c.model for c in group) or "none"
        raise PriceRefused(
            f"price book v{book.version} has no {tier.value} card for {model}; {tier.value} prices: {priced}"
        )
    return found


def _reserved(book: PriceBook, card: ReservedCard, start_s: int, end_s: int) -> Price:
    days = (end_s - start_s) // 86_400
    rows = [row for row in card.discounts if row.min_term_days <= days]
    off = rows[-1].discount if rows else Decimal(0)
    return Price(Tier.RESERVED, card.model, book.version, discounted(card.base, off), off, term_days=days)


def _overlap(s: Segment, t: int, u: int) -> int:
    return max(0, min(s.end_s, u) - max(s.start_s, t))


def _duplicates(tier: str, models: list[str]) -> list[str]:
    out = []
    for k, model in enumerate(models):
        if not model.strip():
            out.append(f"{tier}[{k}].model: must not be empty")
        elif model in models[:k]:
            out.append(f"{tier}[{k}].model: a second {tier} card for {model}; give one per model")
    return out


def _money(path: str, price: Money) -> list[str]:
    """The rule of an operator's price per GPU-hour (or per month), under ``path``."""
    return [f"{path}: {p.removeprefix('price: ')}" for p in price_problems(price)]


def _fee(path: str, fee: Money) -> list[str]:
    """A monthly fee: above 0, at most :data:`MAX_MONTHLY_FEE`, at a rate's precision."""
    if not Decimal(0) < fee.amount <= MAX_MONTHLY_FEE:
        return [f"{path}: {fee} is out of range; give more than 0 and at most {MAX_MONTHLY_FEE:,} a month"]
    exponent = fee.amount.normalize().as_tuple().exponent
    places = rate_places(fee.currency)
    if isinstance(exponent, int) and -exponent > places:
        return [f"{path}: {fee.amount} has more than {places} decimal places, the precision of a {fee.currency} rate"]
    return []


def _discount(path: str, value: Decimal) -> list[str]:
    if not Decimal(0) <= value < Decimal(1):
        return [f"{path}: {value} is outside [0, 1); a discount is a fraction such as 0.25"]
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > DISCOUNT_PLACES:
        return [f"{path}: {value} has more than {DISCOUNT_PLACES} decimal places"]
    return []


def _term_problems(path: str, rows: Sequence[TermDiscount]) -> list[str]:
    if len(rows) > MAX_ROWS:
        return [f"{path}: {len(rows)} rows; at most {MAX_ROWS}"]
    problems = []
    for k, row in enumerate(rows):
        if row.min_term_days < 0:
            problems.append(f"{path}[{k}].min_term_days: must be 0 or more")
        elif k and row.min_term_days <= rows[k - 1].min_term_days:
            problems.append(
                f"{path}[{k}].min_term_days: {row.min_term_days} must be above the previous row's "
                f"{rows[k - 1].min_term_days} (rows sorted by term, no duplicates)"
            )
        problems += _discount(f"{path}[{k}].discount", row.discount)
    return problems


def _wholesale_problems(path: str, card: WholesaleCard) -> list[str]:
    problems = []
    forms = (card.per_gpu_month is not None, card.monthly_fee is not None)
    if forms[0] == forms[1]:
        problems.append(f"{path}: give exactly one of per_gpu_month or monthly_fee (with unit_gpus)")
    if card.per_gpu_month is not None:
        problems += _fee(f"{path}.per_gpu_month", card.per_gpu_month)
    if card.monthly_fee is not None:
        problems += _fee(f"{path}.monthly_fee", card.monthly_fee)
        if card.unit_gpus is None or card.unit_gpus <= 0:
            problems.append(f"{path}.unit_gpus: give the GPUs of the unit the monthly fee is for (a positive count)")
    elif card.unit_gpus is not None:
        problems.append(f"{path}.unit_gpus: only with monthly_fee")
    if len(card.ramp) > MAX_ROWS:
        return [*problems, f"{path}.ramp: {len(card.ramp)} rows; at most {MAX_ROWS}"]
    for k, step in enumerate(card.ramp):
        if step.month < 1:
            problems.append(f"{path}.ramp[{k}].month: contract months count from 1")
        elif k and step.month <= card.ramp[k - 1].month:
            problems.append(
                f"{path}.ramp[{k}].month: {step.month} must be after the previous row's "
                f"{card.ramp[k - 1].month} (rows sorted by month, no duplicates)"
            )
        problems += _discount(f"{path}.ramp[{k}].discount", step.discount)
    return problems
