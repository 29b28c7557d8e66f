"""The book's concentration figures against hand arithmetic, and its sums as properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.domain.errors import RequestError
from neocloud.domain.money import Money
from neocloud.economics.book import book, hhi
from neocloud.economics.contract import Contract, Tranche, whole_term
from neocloud.economics.months import add_months
from tests.unit.test_deal import contract, ts, usd

D = Decimal
Y2027 = ts(2027, 1, 1)
Y2028 = ts(2028, 1, 1)
YEAR = (Y2027, Y2028)


def monthly(tenant: str, fee: int, **terms: object) -> Contract:
    return contract(tenant=tenant, monthly_fee=usd(fee), **terms)


def test_backlog_is_the_fees_from_now_to_the_end() -> None:
    b = book([monthly("a", 1_000_000)], add_months(Y2027, 3), YEAR)
    assert b.backlog == D(9_000_000)
    assert b.revenue == D(12_000_000)  # the period is the whole year
    assert b.remaining_term_years == pytest.approx((Y2028 - add_months(Y2027, 3)) / (365.25 * 86_400))


def test_hhi_and_top1_of_a_three_to_one_book() -> None:
    b = book([monthly("big", 3_000_000), monthly("small", 1_000_000)], Y2027, YEAR)
    assert b.top_tenant == "big"
    assert b.top1_backlog_share == pytest.approx(0.75)
    assert b.hhi == pytest.approx(75**2 + 25**2)  # 6,250 on the 0-10,000 scale


def test_one_tenant_is_a_monopoly_and_ten_equal_tenants_are_a_thousand() -> None:
    assert hhi([D(5)]) == pytest.approx(10_000)
    assert hhi([D(7)] * 10) == pytest.approx(1_000)
    assert hhi([]) == 0.0


def test_revenue_at_risk_starts_after_notice_given_now() -> None:
    now = add_months(Y2027, 6)  # 2027-07-01; notice allowed from 2027-04-01
    c = monthly("a", 1_000_000, notice_days=31, initial_months=3)
    b = book([c], now, YEAR)
    # Notice given on 2027-07-01 ends the contract on 2027-08-01: August to December is at risk.
    assert b.revenue_at_risk == D(5_000_000)
    assert b.tenants[0].revenue_at_risk == D(5_000_000)
    assert b.backlog == D(6_000_000)


def test_a_contract_that_is_not_take_or_pay_has_all_its_backlog_at_risk() -> None:
    firm, loose = monthly("firm", 3_000_000), monthly("loose", 1_000_000, take_or_pay=False)
    b = book([firm, loose], Y2027, YEAR)
    assert b.take_or_pay_share == pytest.approx(0.75)
    assert b.revenue_at_risk == D(12_000_000)


def test_revenue_over_a_period_counts_only_its_lines() -> None:
    b = book([monthly("a", 1_000_000)], Y2027, (add_months(Y2027, 1), add_months(Y2027, 3)))
    assert b.revenue == D(2_000_000)


def test_commitments_say_which_gpus_are_whose_until_when() -> None:
    c = contract(tenant="a", id="C1", tranches=whole_term({"H100": 512, "GB200": 72}, Y2027, Y2028))
    (gb, h100) = book([c], Y2027, YEAR).commitments
    assert (h100.site, h100.tenant, h100.model, h100.gpus, h100.end_s) == ("s1", "a", "H100", 512, Y2028)
    assert gb.model == "GB200"


def test_a_bad_contract_or_mixed_currencies_are_refused_naming_them() -> None:
    with pytest.raises(RequestError, match=r"contract C9: tenant: must not be empty"):
        book([contract(tenant="", id="C9")], Y2027, YEAR)
    eur = contract(monthly_fee=Money(D(5), "EUR"))
    with pytest.raises(RequestError, match="one currency per book; found EUR, USD"):
        book([contract(), eur], Y2027, YEAR)
    with pytest.raises(RequestError, match="period: its start must be before its end"):
        book([contract()], Y2027, (Y2028, Y2027))


@st.composite
def books(draw: st.DrawFn) -> list[Contract]:
    out = []
    for k in range(draw(st.integers(1, 6))):
        start = Y2027 + draw(st.integers(0, 400)) * 86_400
        end = start + draw(st.integers(1, 900)) * 86_400
        rate = draw(st.sampled_from(["2.35", "1.99", "5.27"]))
        gpus = draw(st.integers(1, 20_000))
        notice = draw(st.none() | st.integers(0, 120))
        out.append(
            Contract(
                tenant=draw(st.sampled_from(["a", "b", "c"])),
                site="s1",
                tranches=(Tranche("H100", gpus, start, end),),
                price_per_gpu_hour=usd(rate),
                notice_days=notice,
                take_or_pay=draw(st.booleans()),
                id=f"C{k}",
            )
        )
    return out


@settings(max_examples=100, deadline=None)
@given(books(), st.integers(Y2027, Y2027 + 1_400 * 86_400))
def test_tenant_rows_sum_to_the_books_totals(contracts: list[Contract], now: int) -> None:
    b = book(contracts, now, (now, now + 365 * 86_400))
    assert sum(r.backlog for r in b.tenants) == b.backlog
    assert sum(r.revenue for r in b.tenants) == b.revenue
    assert sum(r.revenue_at_risk for r in b.tenants) == b.revenue_at_risk <= b.backlog
    if b.backlog:
        assert sum(r.backlog_share for r in b.tenants) == pytest.approx(1.0)
        assert b.top1_backlog_share == max(r.backlog_share for r in b.tenants)
        assert 10_000 / len(b.tenants) - 1e-6 <= b.hhi <= 10_000 + 1e-6
