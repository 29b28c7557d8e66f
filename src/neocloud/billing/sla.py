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

The tiers and the cap are the contract's: ``lease.request.sla_credit_tiers`` and
``sla_credit_cap``, fixed when the lease was booked (:func:`terms_of`). Their defaults,
with sources, and the rules they follow are in :mod:`neocloud.domain.credits`;
:func:`default_terms` builds the defaults for a target (a lease document written
before tiers were recorded loads with them).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from neocloud.billing.metering import Usage
from neocloud.billing.rating import COMMITTED_TIERS
from neocloud.domain.billing import InvoiceLine, LineKind
from neocloud.domain.credits import (
    DEFAULT_CAP_SHARE,
    LOWER_TIERS,
    TARGET_TIER_SHARE,
    CreditTier,
    credit_problems,
    default_credit_tiers,
)
from neocloud.domain.errors import RequestError
from neocloud.domain.leases import LeaseRequest, sla_target_problems
from neocloud.domain.money import Money, percent, round_money

# The defaults and the tier type live in the domain (a lease states them); billing's
# names for them stay importable from here.
__all__ = [
    "DEFAULT_CAP_SHARE",
    "LOWER_TIERS",
    "TARGET_TIER_SHARE",
    "CreditTier",
    "SlaTerms",
    "below",
    "checked",
    "credit_share",
    "default_terms",
    "sla_credit",
    "terms_of",
    "terms_problems",
]


@dataclass(frozen=True, slots=True)
class SlaTerms:
    """A lease's SLA: its availability target, the credit tiers and the cap (a share of
    the period's charge no credit exceeds). Tiers apply only below the target."""

    target_pct: Decimal
    tiers: tuple[CreditTier, ...]
    cap_share: Decimal = DEFAULT_CAP_SHARE


def default_terms(target_pct: Decimal) -> SlaTerms:
    """The default tiers and cap (:mod:`neocloud.domain.credits`) under ``target_pct``."""
    return SlaTerms(target_pct, default_credit_tiers(target_pct), DEFAULT_CAP_SHARE)


def terms_of(request: LeaseRequest) -> SlaTerms:
    """The SLA a lease's request states: its target, its tiers and its cap. A booked
    lease always states tiers (they are filled in at booking); a request that was never
    booked and states none gets the defaults for its target."""
    target = request.sla_availability_pct
    return SlaTerms(target, request.sla_credit_tiers or default_credit_tiers(target), request.sla_credit_cap)


def terms_problems(terms: SlaTerms) -> list[str]:
    """What is wrong with ``terms``, each naming the field (empty when fine): the rules
    a lease request's SLA follows (``validate_request``), in one place."""
    return sla_target_problems(terms.target_pct) + credit_problems(terms.target_pct, terms.tiers, terms.cap_share)


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
