"""SLA credits (billing/sla.py): tiers below the target, the cap, exact comparisons,
the evidence on the credit line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from neocloud.billing.metering import Usage
from neocloud.billing.sla import CreditTier, SlaTerms, checked, credit_share, default_terms, sla_credit, terms_problems
from neocloud.domain.billing import Evidence, InvoiceLine, LineKind, period
from neocloud.domain.errors import RequestError
from neocloud.domain.leases import Tier
from neocloud.domain.money import Money

JAN = period("2027-01")
COUNTED = 1_000_000  # GPU-seconds the SLA counts


def _usage(shortfall: int, tier: Tier = Tier.RESERVED, excluded: int = 0) -> Usage:
    evidence = (Evidence("n1", 0, shortfall, 1, "failed"),) if shortfall else ()
    contracted = COUNTED + excluded
    return Usage("L-1", "acme", tier, JAN, contracted, contracted - shortfall, excluded, shortfall, evidence)


CHARGE = InvoiceLine(LineKind.CHARGE, "L-1", "2027-01", "fee", COUNTED, Money(Decimal("1000.00")))


def test_the_default_tiers_are_10_25_and_100_percent_below_the_target_95_and_90() -> None:
    terms = default_terms(Decimal("99.0"))
    assert terms.tiers == (
        CreditTier(Decimal("99.0"), Decimal("0.10")),
        CreditTier(Decimal("95.0"), Decimal("0.25")),
        CreditTier(Decimal("90.0"), Decimal("1.00")),
    )
    assert terms.cap_share == Decimal("1.00")


def test_a_lower_tier_at_or_above_a_low_target_is_left_out() -> None:
    assert [t.below_pct for t in default_terms(Decimal("95")).tiers] == [Decimal("95"), Decimal("90.0")]


@pytest.mark.parametrize(
    ("shortfall", "share"),
    [
        (10_000, "0"),  # 99.0% exactly: the target is met
        (10_001, "0.10"),  # one GPU-second below it
        (50_000, "0.10"),  # 95.0% exactly: not below 95
        (50_001, "0.25"),
        (100_001, "1.00"),  # below 90%
    ],
)
def test_availability_is_compared_exactly_at_each_threshold(shortfall: int, share: str) -> None:
    assert credit_share(_usage(shortfall), default_terms(Decimal("99.0"))) == Decimal(share)


def test_excluded_maintenance_counts_on_neither_side_of_availability() -> None:
    # 10,000 short of 1,000,000 counted is 99.0%: the 500,000 excluded do not lower it
    assert credit_share(_usage(10_000, excluded=500_000), default_terms(Decimal("99.0"))) == 0


def test_no_credit_exceeds_the_cap() -> None:
    terms = SlaTerms(Decimal("99.0"), (CreditTier(Decimal("99.0"), Decimal("1.0")),), cap_share=Decimal("0.5"))
    line = sla_credit(_usage(500_000), CHARGE, terms)
    assert line is not None
    assert line.amount == Money(Decimal("-500.00"))


def test_the_credit_line_is_negative_rounded_once_and_carries_the_evidence() -> None:
    charge = InvoiceLine(LineKind.CHARGE, "L-1", "2027-01", "fee", COUNTED, Money(Decimal("1234.57")))
    usage = _usage(20_000)
    line = sla_credit(usage, charge, default_terms(Decimal("99.0")))
    assert line is not None
    assert line.kind is LineKind.SLA_CREDIT
    assert line.amount == Money(Decimal("-123.46"))  # 10% of 1,234.57 = 123.457 -> 123.46
    assert line.evidence == usage.missing
    assert line.gpu_s == 20_000
    assert "98.0% available, target 99.0%" in line.description


@pytest.mark.parametrize("tier", [Tier.ON_DEMAND, Tier.SPOT])
def test_usage_tiers_get_no_credit_as_they_pay_only_what_was_delivered(tier: Tier) -> None:
    assert sla_credit(_usage(500_000, tier), CHARGE, default_terms(Decimal("99.0"))) is None


def test_a_period_the_sla_counts_nothing_of_earns_no_credit() -> None:
    usage = Usage("L-1", "acme", Tier.RESERVED, JAN, 100, 0, 100, 0)
    assert credit_share(usage, default_terms(Decimal("99.0"))) == 0


def test_bad_terms_name_each_field() -> None:
    terms = SlaTerms(Decimal("0"), (CreditTier(Decimal("101"), Decimal("1.5")),), cap_share=Decimal("0"))
    assert terms_problems(terms) == [
        "sla: availability must be above 0 and at most 100 percent",
        "sla_credits.tiers[0].below_pct: 101 is not above 0 and at most 100 percent",
        "sla_credits.tiers[0].credit_pct: 150 is not above 0 and at most 100 percent",
        "sla_credits.cap_pct: 0 is not above 0 and at most 100 percent",
    ]
    with pytest.raises(RequestError):
        checked(terms)
