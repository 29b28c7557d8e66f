"""Keep or lease, sold at a tier of the price book: one tenant, each GPU model at its card.

``plan keep-vs-lease --tier TIER`` prices what is leased from the price book instead of a
stated price: the part of each site that is leased becomes one deal per GPU model
(``services.deals.analyse_deal``), each at that model's card for the tier, because a
contract has one price and the leased part of a Colossus-scale campus spans H100, H200
and GB200 at three different cards (docs/keep-vs-lease.md).

- **wholesale** (whole units, take-or-pay): a model's deal pays the card's fee per
  GPU-month x its GPUs each contract month, with the card's ramp (a discount off month
  ``m`` is the fraction ``1 - discount`` of the fee due in that month). This is how the
  book reads a wholesale lease signed at a card (``deals._money_terms``), so a study's
  figures and the book's agree.
- **reserved** (by term): a model's deal pays the card's rate per GPU-hour after the
  discount the lease's term earns (``pricebook.price_for``), no ramp.

On-demand and spot commit nothing and are not for capacity sold whole for a term.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal

from neocloud.domain.errors import RequestError
from neocloud.domain.fleet import Fleet
from neocloud.domain.leases import Tier
from neocloud.domain.money import Money, round_money
from neocloud.economics.pricebook import Price, PriceBook, PriceRefused, price_for
from neocloud.services.deals import CostSource, DealReport, DealTerms, analyse_deal

#: The tiers that sell capacity whole to one tenant for a term: take-or-pay whole units,
#: and a reserved term. On-demand and spot are rentals without a commitment.
WHOLE_TIERS = (Tier.WHOLESALE, Tier.RESERVED)


def tier_problems(book: PriceBook, tier: str, models: Iterable[str], start_s: int, end_s: int) -> list[str]:
    """Why ``tier`` cannot price ``models`` over ``[start_s, end_s)`` in ``book``: an
    unknown or unfit tier (listing the known ones), or each model without a card."""
    known = ", ".join(t.value for t in WHOLE_TIERS)
    if tier not in {t.value for t in WHOLE_TIERS}:
        if tier in {t.value for t in Tier}:
            return [f"tier: {tier!r} commits nothing and does not sell capacity whole; one of {known}"]
        return [f"tier: {tier!r} is not a tier; one of {known}"]
    problems = []
    for model in sorted(set(models)):
        try:
            price_for(book, Tier(tier), model, start_s, end_s)
        except PriceRefused:
            problems.append(f"tier: the price book v{book.version} has no {tier} card for {model}")
    return problems


def tier_prices(book: PriceBook, tier: Tier, models: Iterable[str], start_s: int, end_s: int) -> dict[str, Price]:
    """Each model's price at ``tier`` over the term (its card's; :func:`tier_problems` first)."""
    return {m: price_for(book, tier, m, start_s, end_s) for m in sorted(set(models))}


def tier_deals(base: DealTerms, book: PriceBook, tier: Tier, fleet: Fleet, costs: CostSource) -> tuple[DealReport, ...]:
    """``base`` (a site's leased GPUs per model, the tenant and the term) as one deal per
    model at that model's card (module doc). A stated ``base.ramp`` replaces a wholesale
    card's. :class:`RequestError` naming a model without a card."""
    gpus: Mapping[str, int] = base.gpus or {}
    problems = tier_problems(book, tier.value, gpus, base.start_s, base.end_s)
    if problems:
        raise RequestError(problems)
    prices = tier_prices(book, tier, gpus, base.start_s, base.end_s)
    return tuple(
        analyse_deal(_model_terms(base, model, n, prices[model]), fleet, costs) for model, n in sorted(gpus.items())
    )


def _model_terms(base: DealTerms, model: str, gpus: int, price: Price) -> DealTerms:
    one = replace(base, gpus={model: gpus}, monthly_fee=None, price_per_gpu_hour=None)
    if price.per_gpu_month is None:  # reserved: the rate its term earns
        return replace(one, price_per_gpu_hour=price.rate)
    month = price.per_gpu_month
    fee = Money(round_money(month.amount * gpus, month.currency), month.currency)
    months = max((r.month for r in price.ramp), default=0)
    off = {r.month: r.discount for r in price.ramp}
    card_ramp = tuple(1 - off.get(m, Decimal(0)) for m in range(1, months + 1))
    return replace(one, monthly_fee=fee, ramp=base.ramp or card_ramp)
