"""SLA credit tiers as a lease's contract states them, and the defaults it is signed with.

A lease's request states its availability target (``sla_availability_pct``), its credit
tiers (``sla_credit_tiers``: availability below ``below_pct`` percent earns ``share`` of
the period's charge) and the cap (``sla_credit_cap``: a share of the period's charge no
credit exceeds). A request that states no tiers is signed with
:func:`default_credit_tiers` of its target when it is booked
(``domain/leases.py`` ``with_credit_terms``), and the lease document keeps them: changing a default
later never changes a contract already signed, as a lease keeps its price-book version.

Defaults, ``sla_credit_tiers`` in economics.md §6 and §5.4:

- 10% of the period's fee below the lease's target (default 99% ``sla_uptime``
  single-region [R97][R99]): AWS EC2's and NVIDIA DGX Cloud's first tier [R99][R101]
  (2022-05 / 2026-06);
- 25% below 95.0%: DGX Cloud's second tier, at the 99% target we default to [R101]
  (2026-06), and the 25% of Google Cloud's and Azure's 10 / 25 / 100 tiers [R98]
  (2026-07-03);
- 100% below 90.0%: the 100% tier of AWS, Google Cloud and Azure [R98][R99]; AWS puts
  it at 95.0% below a 99.5% commitment; its threshold for a 99% target is not sourced,
  we assume [D] 90.0% so that 95% keeps DGX Cloud's 25% tier;
- cap 100% of the period's fee: Voltage Park's cap [R101] (2026-06), the top of the
  50-100% range [R98] (2026-07-03).

Rules (:func:`credit_problems`): each tier's threshold above 0 and at most the target (a
tier above the target never applies), its share above 0 and at most 1, thresholds
strictly decreasing with shares never decreasing (a lower availability never earns a
smaller credit), at most :data:`MAX_CREDIT_TIERS` tiers, a cap above 0 and at most 1,
and percentages with at most :data:`PERCENT_PLACES` decimal places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

#: Below the target: 10% [R99][R101] (2022-05 / 2026-06).
TARGET_TIER_SHARE = Decimal("0.10")
#: (availability below, share): 25% below 95% [R101][R98]; 100% below 90% [D] (see above).
LOWER_TIERS = ((Decimal("95.0"), Decimal("0.25")), (Decimal("90.0"), Decimal("1.00")))
#: The cap: 100% of the period's fee [R101] (2026-06); range 50-100% [R98] (2026-07-03).
DEFAULT_CAP_SHARE = Decimal("1.00")
#: Tiers a contract may state: our own bound [D] (2026-12-01); the providers of
#: economics.md §5.4 state three or four [R98]-[R101], twice that leaves room.
MAX_CREDIT_TIERS = 8
#: Decimal places of a threshold, a credit or the cap in percent: as many as an SLA
#: target has (99.999, five nines; domain/leases.py ``SLA_PLACES``).
PERCENT_PLACES = 3

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class CreditTier:
    """Availability below ``below_pct`` percent earns ``share`` of the period's charge."""

    below_pct: Decimal
    share: Decimal


def default_credit_tiers(target_pct: Decimal) -> tuple[CreditTier, ...]:
    """The default tiers (module docstring) under ``target_pct``; a lower tier at or
    above the target is left out (the target tier already starts there)."""
    tiers = [CreditTier(target_pct, TARGET_TIER_SHARE)]
    tiers += [CreditTier(below, share) for below, share in LOWER_TIERS if below < target_pct]
    return tuple(tiers)


def credit_problems(target_pct: Decimal, tiers: tuple[CreditTier, ...], cap_share: Decimal) -> list[str]:
    """What is wrong with the tiers and cap under ``target_pct``, each problem naming
    its field as the API body spells it (``sla_credits.tiers[1].below_pct``); empty
    when fine. Values are shown in percent, as they are given."""
    problems: list[str] = []
    if len(tiers) > MAX_CREDIT_TIERS:
        return [f"sla_credits.tiers: {len(tiers)} tiers; at most {MAX_CREDIT_TIERS}"]
    for k, tier in enumerate(tiers):
        problems += _tier_problems(k, tier, target_pct)
    for k in range(1, len(tiers)):
        before, tier = tiers[k - 1], tiers[k]
        if tier.below_pct >= before.below_pct:
            problems.append(
                f"sla_credits.tiers[{k}].below_pct: {tier.below_pct} is not below the previous tier's "
                f"{before.below_pct}; list tiers from the highest threshold down"
            )
        elif tier.share < before.share:
            problems.append(
                f"sla_credits.tiers[{k}].credit_pct: {_pct(tier.share)} is less than the previous tier's "
                f"{_pct(before.share)}; a lower availability never earns a smaller credit"
            )
    problems += _share_problems("sla_credits.cap_pct", cap_share)
    return problems


def describe_credits(target_pct: Decimal, tiers: tuple[CreditTier, ...], cap_share: Decimal) -> str:
    """One short line: ``SLA 99.5%: credit 10% below 99.5, 25% below 95; cap 100%``."""
    stated = ", ".join(f"{_pct(t.share)}% below {_plain(t.below_pct)}" for t in tiers) or "none"
    return f"SLA {_plain(target_pct)}%: credit {stated}; cap {_pct(cap_share)}%"


def credits_document(tiers: tuple[CreditTier, ...], cap_share: Decimal) -> dict[str, object]:
    """The tiers and cap as the API and ``--json`` write them (and the API body reads
    them): percentages as exact strings, ``{"tiers": [{"below_pct": "99",
    "credit_pct": "10"}], "cap_pct": "100"}``."""
    return {
        "tiers": [{"below_pct": _plain(t.below_pct), "credit_pct": _pct(t.share)} for t in tiers],
        "cap_pct": _pct(cap_share),
    }


def _tier_problems(k: int, tier: CreditTier, target_pct: Decimal) -> list[str]:
    field = f"sla_credits.tiers[{k}]"
    problems = []
    below = tier.below_pct
    if not Decimal(0) < below <= HUNDRED:
        problems.append(f"{field}.below_pct: {below} is not above 0 and at most 100 percent")
    elif below > target_pct:
        problems.append(
            f"{field}.below_pct: {below} is above the availability target {target_pct}; "
            "a tier above the target never applies"
        )
    elif _places(below) > PERCENT_PLACES:
        problems.append(f"{field}.below_pct: {below} has more than {PERCENT_PLACES} decimal places")
    return problems + _share_problems(f"{field}.credit_pct", tier.share)


def _share_problems(field: str, share: Decimal) -> list[str]:
    if not Decimal(0) < share <= Decimal(1):
        return [f"{field}: {_pct(share)} is not above 0 and at most 100 percent"]
    if _places(share * HUNDRED) > PERCENT_PLACES:
        return [f"{field}: {_pct(share)} has more than {PERCENT_PLACES} decimal places"]
    return []


def _pct(share: Decimal) -> str:
    return _plain(share * HUNDRED)


def _plain(value: Decimal) -> str:
    """``10`` for 10.00, ``99.5`` for 99.50: the value without trailing zeros or exponent."""
    text = f"{value.normalize():f}" if value.is_finite() else str(value)
    return text


def _places(value: Decimal) -> int:
    if not value.is_finite():
        return 0
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
