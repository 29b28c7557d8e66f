"""SLA credit tiers as a lease states them (domain/credits.py): the rules each stated
tier and the cap follow, each refusal naming its field; the defaults a lease is
signed with when it states none; the one line that shows them."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from neocloud.billing.sla import terms_of
from neocloud.domain.credits import MAX_CREDIT_TIERS, CreditTier, credit_problems, describe_credits
from neocloud.domain.leases import LeaseRequest, validate_request, with_credit_terms
from neocloud.domain.money import Money
from neocloud.domain.shape import Shape

T0 = 1_800_000_000
D = Decimal


def a_request(**kw: object) -> LeaseRequest:
    base = LeaseRequest("acme", Shape(("H100",), gpus=8), T0 + 3600, T0 + 86_400, Money(D("2.00")), D("99.5"))
    return replace(base, **kw)  # type: ignore[arg-type]


def tiers(*pairs: tuple[str, str]) -> tuple[CreditTier, ...]:
    return tuple(CreditTier(D(below), D(share)) for below, share in pairs)


GOOD = tiers(("99.5", "0.10"), ("95", "0.25"), ("90", "1"))


@pytest.mark.parametrize(
    ("stated", "cap", "problem"),
    [
        (tiers(("0", "0.1")), "1", "sla_credits.tiers[0].below_pct: 0 is not above 0 and at most 100 percent"),
        (tiers(("101", "0.1")), "1", "sla_credits.tiers[0].below_pct: 101 is not above 0 and at most 100 percent"),
        (
            tiers(("99.9", "0.1"), ("99", "0.2")),
            "1",
            "sla_credits.tiers[0].below_pct: 99.9 is above the availability target 99.5; "
            "a tier above the target never applies",
        ),
        (tiers(("99.1234", "0.1")), "1", "sla_credits.tiers[0].below_pct: 99.1234 has more than 3 decimal places"),
        (tiers(("99", "0")), "1", "sla_credits.tiers[0].credit_pct: 0 is not above 0 and at most 100 percent"),
        (tiers(("99", "1.5")), "1", "sla_credits.tiers[0].credit_pct: 150 is not above 0 and at most 100 percent"),
        (tiers(("99", "-0.1")), "1", "sla_credits.tiers[0].credit_pct: -10 is not above 0 and at most 100 percent"),
        (tiers(("99", "0.000001")), "1", "sla_credits.tiers[0].credit_pct: 0.0001 has more than 3 decimal places"),
        (
            tiers(("95", "0.1"), ("95", "0.2")),
            "1",
            "sla_credits.tiers[1].below_pct: 95 is not below the previous tier's 95; "
            "list tiers from the highest threshold down",
        ),
        (
            tiers(("90", "0.1"), ("95", "0.2")),
            "1",
            "sla_credits.tiers[1].below_pct: 95 is not below the previous tier's 90",
        ),
        (
            tiers(("99", "0.25"), ("95", "0.10")),
            "1",
            "sla_credits.tiers[1].credit_pct: 10 is less than the previous tier's 25; "
            "a lower availability never earns a smaller credit",
        ),
        (GOOD, "0", "sla_credits.cap_pct: 0 is not above 0 and at most 100 percent"),
        (GOOD, "1.01", "sla_credits.cap_pct: 101 is not above 0 and at most 100 percent"),
        (
            tuple(CreditTier(D(99 - k), D("0.5")) for k in range(MAX_CREDIT_TIERS + 1)),
            "1",
            f"sla_credits.tiers: {MAX_CREDIT_TIERS + 1} tiers; at most {MAX_CREDIT_TIERS}",
        ),
    ],
)
def test_a_bad_tier_or_cap_is_refused_naming_the_field(stated: tuple[CreditTier, ...], cap: str, problem: str) -> None:
    problems = validate_request(a_request(sla_credit_tiers=stated, sla_credit_cap=D(cap)), T0)
    assert len(problems) == 1, problems
    assert problems[0].startswith(problem)


def test_good_tiers_equal_shares_and_as_many_tiers_as_allowed_pass() -> None:
    assert validate_request(a_request(sla_credit_tiers=GOOD, sla_credit_cap=D("0.3")), T0) == []
    flat = tuple(CreditTier(D(99 - k), D("0.5")) for k in range(MAX_CREDIT_TIERS))  # equal shares: allowed
    assert credit_problems(D("99.5"), flat, D("1")) == []


def test_a_request_stating_no_tiers_is_signed_with_the_defaults_for_its_target() -> None:
    signed = with_credit_terms(a_request())
    assert signed.sla_credit_tiers == tiers(("99.5", "0.10"), ("95.0", "0.25"), ("90.0", "1.00"))
    assert with_credit_terms(signed) == signed
    stated = a_request(sla_credit_tiers=tiers(("99", "0.5")))
    assert with_credit_terms(stated) == stated  # stated tiers are kept whole


def test_billing_reads_the_terms_from_the_request() -> None:
    terms = terms_of(a_request(sla_credit_tiers=tiers(("99", "0.5")), sla_credit_cap=D("0.3")))
    assert (terms.target_pct, terms.tiers, terms.cap_share) == (D("99.5"), tiers(("99", "0.5")), D("0.3"))


def test_the_terms_read_in_one_line() -> None:
    text = describe_credits(D("99.5"), tiers(("99.5", "0.10"), ("95.0", "0.25"), ("90.0", "1.00")), D("1.00"))
    assert text == "SLA 99.5%: credit 10% below 99.5, 25% below 95, 100% below 90; cap 100%"
