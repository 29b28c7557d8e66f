"""SLA credits: computed from what was delivered, never claimed.

Availability of a lease in a period = delivered-healthy / (contracted - excluded)
GPU-seconds (:class:`~neocloud.billing.metering.Usage`): the maintenance windows the
contract excludes count on neither side. The spare policy: spares are not contracted
GPUs (a spare booking delivers nothing to the lease) and a spare swapped in is a lease
booking from the swap, so it delivers from then on; the node it replaced stops being
missing at the swap.

A credit is the share of the period's charge for the lease that the lowest tier reached
gives (:class:`SlaTerms`), capped, rounded once (:func:`~neocloud.domain.money.round_money`),
as a negative ``sla_credit`` line with the evidence (which nodes, which intervals)
attached. Availability is compared exactly, in integers: a lease at 98.99999% of a 99%
target is below it. Credits apply to the committed tiers (wholesale, reserved), billed
on what was contracted; on-demand and spot already pay only for what was delivered.

Defaults (:func:`default_terms`), ``sla_credit_tiers`` in economics.md §6 and §5.4:

- 10% of the period's fee below the lease's target (``lease.request.sla_availability_pct``,
  default 99% ``sla_uptime`` single-region [R97][R99]): AWS EC2's and NVIDIA DGX Cloud's
  first tier [R99][R101] (2022-05 / 2026-06);
- 25% below 95.0%: DGX Cloud's second tier, at the 99% target we default to [R101]
  (2026-06), and the 25% of Google Cloud's and Azure's 10 / 25 / 100 tiers [R98]
  (2026-07-03);
- 100% below 90.0%: the 100% tier of AWS, Google Cloud and Azure [R98][R99]; AWS puts
  it at 95.0% below a 99.5% commitment; its threshold for a 99% target is not sourced,
  we assume [D] 90.0% so that 95% keeps DGX Cloud's 25% tier;
- cap 100% of the period's fee: Voltage Park's cap [R101] (2026-06), the top of the
  50-100% range [R98] (2026-07-03).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from neocloud.billing.metering import Usage
from neocloud.billing.rating import COMMITTED_TIERS
from neocloud.domain.billing import InvoiceLine, LineKind
from neocloud.domain.errors import RequestError
from neocloud.domain.money import Money, percent, round_money

#: Below the target: 10% [R99][R101] (2022-05 / 2026-06).
TARGET_TIER_SHARE = Decimal("0.10")
#: (availability below, share): 25% below 95% [R101][R98]; 100% below 90% [D] (see above).
LOWER_TIERS = ((Decimal("95.0"), Decimal("0.25")), (Decimal("90.0"), Decimal("1.00")))
#: The cap: 100% of the period's fee [R101] (2026-06); range 50-100% [R98] (2026-07-03).
DEFAULT_CAP_SHARE = Decimal("1.00")


@dataclass(frozen=True, slots=True)
class CreditTier:
    """Availability below ``below_pct`` percent earns ``share`` of the period's charge."""

    below_pct: Decimal
    share: Decimal


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """A lease's SLA: its availability target, the credit tiers and the cap (a share of
    the period's charge no credit exceeds). Tiers apply only below the target."""

    target_pct: Decimal
    tiers: tuple[CreditTier, ...]
    cap_share: Decimal = DEFAULT_CAP_SHARE


def default_terms(target_pct: Decimal) -> SlaTerms:
    """The default tiers (module docstring) under ``target_pct``; a lower tier at or
    above the target is left out (the target tier already starts there)."""
    tiers = [CreditTier(target_pct, TARGET_TIER_SHARE)]
    tiers += [CreditTier(below, share) for below, share in LOWER_TIERS if below < target_pct]
    return SlaTerms(target_pct, tuple(tiers))


def terms_problems(terms: SlaTerms) -> list[str]:
    """What is wrong with ``terms``, each naming the field (empty when fine)."""
    problems = []
    if not Decimal(0) < terms.target_pct <= Decimal(100):
        problems.append(f"sla.target: {terms.target_pct} is not above 0 and at most 100 percent")
    if not Decimal(0) < terms.cap_share <= Decimal(1):
        problems.append(f"sla.cap: {terms.cap_share} is not a share above 0 and at most 1")
    for k, tier in enumerate(terms.tiers):
        if not Decimal(0) < tier.below_pct <= Decimal(100):
            problems.append(f"sla.tiers[{k}].below: {tier.below_pct} is not above 0 and at most 100 percent")
        if not Decimal(0) < tier.share <= Decimal(1):
            problems.append(f"sla.tiers[{k}].share: {tier.share} is not a share above 0 and at most 1")
    return problems


def checked(terms: SlaTerms) -> SlaTerms:
    """``terms``, or a :class:`RequestError` listing its problems."""
    problems = terms_problems(terms)
    if problems:
        raise RequestError(problems)
    return terms


def below(usage: Usage, pct: Decimal) -> bool:
    """True when the period's availability is below ``pct`` percent (exact: available
    x 100 < pct x counted); a period the SLA counts nothing of is never below."""
    counted = usage.counted_gpu_s
    return counted > 0 and Decimal(usage.available_gpu_s * 100) < pct * counted


def credit_share(usage: Usage, terms: SlaTerms) -> Decimal:
    """The share of the period's charge credited: the largest share of the tiers the
    availability is below, when below the target; capped; 0 otherwise."""
    if usage.tier not in COMMITTED_TIERS or not below(usage, terms.target_pct):
        return Decimal(0)
    share = max((t.share for t in terms.tiers if below(usage, t.below_pct)), default=Decimal(0))
    return min(share, terms.cap_share)


def sla_credit(usage: Usage, charge: InvoiceLine, terms: SlaTerms) -> InvoiceLine | None:
    """The credit line for ``usage`` against its ``charge`` line, or None when the SLA was met."""
    share = credit_share(usage, terms)
    if not share or charge.amount.amount <= 0:
        return None
    currency = charge.amount.currency
    amount = -round_money(charge.amount.amount * share, currency)
    if not amount:
        return None  # a share of a few cents that rounds to nothing is no line
    shown = percent(usage.availability)
    text = f"SLA credit: {shown} available, target {terms.target_pct}%: {share:.0%} of the charge"
    return InvoiceLine(
        LineKind.SLA_CREDIT,
        usage.lease_id,
        usage.period.label,
        text,
        usage.shortfall_gpu_s,
        Money(amount, currency),
        usage.missing,
    )
