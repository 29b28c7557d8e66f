"""A contract's cash flows, NPV, IRR, exit and revenue at risk, checked against
arithmetic done here independently, and the money invariants as properties."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.domain.errors import RequestError
from neocloud.domain.money import Money
from neocloud.economics.contract import (
    Contract,
    Drawdown,
    Prepayment,
    Tranche,
    add_months,
    contract_problems,
    whole_term,
)
from neocloud.economics.deal import CostBasis, analyse, monthly_rate, schedule

D = Decimal


def ts(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())  # type: ignore[misc]


def usd(x: str | int) -> Money:
    return Money(D(x))


COSTS = CostBasis(
    tco_per_gpu_hour={"H100": usd("1.50"), "GB200": usd("2.50")},
    opex_per_gpu_hour={"H100": usd("0.30"), "GB200": usd("0.45")},
    capex_per_gpu={"H100": usd(50_000), "GB200": usd(60_000)},
)


def contract(**terms: object) -> Contract:
    base: dict[str, object] = {
        "tenant": "lab",
        "site": "s1",
        "tranches": whole_term({"H100": 1000}, ts(2027, 1, 1), ts(2028, 1, 1)),
        "monthly_fee": usd(1_000_000),
    }
    base.update(terms)
    return Contract(**base)  # type: ignore[arg-type]


def test_a_year_at_a_flat_fee_is_twelve_fees_and_its_npv_is_the_annuity_less_capex() -> None:
    a = analyse(contract(), COSTS, wacc=D("0.12"))
    assert a.total_revenue == D(12_000_000)
    assert [m.fee for m in a.months[1:]] == [D(1_000_000)] * 12
    # Independent arithmetic: opex per month = 1000 GPUs x hours of the month x 0.30.
    hours = [(add_months(ts(2027, 1, 1), k + 1) - add_months(ts(2027, 1, 1), k)) / 3600 for k in range(12)]
    nets = [1_000_000 - 1000 * h * 0.30 for h in hours]
    r = 1.12 ** (1 / 12) - 1
    expected = -50_000_000 + sum(n / (1 + r) ** (k + 1) for k, n in enumerate(nets))
    assert float(a.npv) == pytest.approx(expected, abs=0.01)
    assert a.capex == D(50_000_000)
    assert a.payback_month is None  # 12 M a year never pays back 50 M of capex in a year


def test_the_monthly_rate_compounds_back_to_the_annual_wacc() -> None:
    assert (1 + monthly_rate(D("0.10"))) ** 12 == pytest.approx(1.10)


def test_irr_is_annualised_by_compounding_the_monthly_rate() -> None:
    a = analyse(contract(), _cheap_capex(D(5_000)))
    assert a.irr_monthly is not None
    assert a.irr_annual is not None
    assert a.irr_annual == pytest.approx((1 + a.irr_monthly) ** 12 - 1)
    # At the IRR the flows are worth nothing.
    r = a.irr_monthly
    assert sum(float(m.net) / (1 + r) ** m.month for m in a.months) == pytest.approx(0, abs=1.0)


def _cheap_capex(per_gpu: Decimal) -> CostBasis:
    return CostBasis(COSTS.tco_per_gpu_hour, COSTS.opex_per_gpu_hour, {"H100": Money(per_gpu), "GB200": usd(1)})


def test_payback_is_the_first_month_whose_cumulative_cash_is_not_negative() -> None:
    a = analyse(contract(), _cheap_capex(D(5_000)))  # 5 M capex, ~0.78 M net a month
    cumulative = [m.cumulative for m in a.months]
    assert a.payback_month == next(k for k, c in enumerate(cumulative) if c >= 0)
    assert cumulative[a.payback_month - 1] < 0
    assert a.payback_month == 7


def test_the_ramp_reduces_the_first_months_fees_by_its_fractions() -> None:
    a = analyse(contract(ramp=(D("0.25"), D("0.5"))), COSTS)
    assert [m.fee for m in a.months[1:4]] == [D(250_000), D(500_000), D(1_000_000)]
    assert a.total_revenue == D(10_750_000)
    assert a.annual_revenue == D(12_000_000)  # the run rate has no ramp


def test_earliest_exit_is_the_first_notice_date_plus_the_notice_period() -> None:
    c = contract(notice_days=90, initial_months=3)
    assert c.earliest_notice_s() == ts(2027, 4, 1)
    assert c.earliest_exit_s() == ts(2027, 4, 1) + 90 * 86_400 == ts(2027, 6, 30)
    a = analyse(c, COSTS)
    # Independent: June 2027 is cut at the 30th (29 of 30 days before the exit); July to December at risk.
    june_at_risk = D(1_000_000) * 1 / 30
    assert a.revenue_at_risk == (D(6_000_000) + june_at_risk).quantize(D("0.01"))
    assert a.revenue_before_exit + a.revenue_at_risk == a.total_revenue


def test_a_contract_without_notice_has_nothing_at_risk_and_exits_at_its_end() -> None:
    a = analyse(contract(), COSTS)
    assert a.earliest_exit_s == ts(2028, 1, 1)
    assert a.revenue_at_risk == 0


def test_without_take_or_pay_all_revenue_is_at_risk() -> None:
    a = analyse(contract(take_or_pay=False), COSTS)
    assert a.revenue_at_risk == a.total_revenue == D(12_000_000)


def test_a_pro_rata_prepayment_is_drawn_down_in_proportion_to_the_fees() -> None:
    a = analyse(contract(prepayment=Prepayment(share=D("0.2"))), COSTS)
    assert a.prepayment == D(2_400_000)
    assert a.months[0].prepayment_in == D(2_400_000)
    assert all(m.drawdown == D(200_000) for m in a.months[1:])


def test_a_front_prepayment_is_credited_against_the_first_fees_until_used_up() -> None:
    prepay = Prepayment(amount=usd(2_500_000), drawdown=Drawdown.FRONT)
    a = analyse(contract(prepayment=prepay), COSTS)
    assert [m.drawdown for m in a.months[1:5]] == [D(1_000_000), D(1_000_000), D(500_000), D(0)]


def test_a_prepayment_above_the_fees_is_refused_naming_the_field() -> None:
    with pytest.raises(RequestError, match=r"prepayment: .* more than the contract's fees"):
        analyse(contract(prepayment=Prepayment(amount=usd(13_000_000))), COSTS)


def test_an_hourly_rate_bills_the_tranches_gpu_hours() -> None:
    tranches = (
        Tranche("H100", 8, ts(2027, 1, 1), ts(2027, 1, 11)),
        Tranche("H100", 8, ts(2027, 1, 6), ts(2027, 1, 11)),
    )
    c = contract(tranches=tranches, monthly_fee=None, price_per_gpu_hour=usd("2.35"))
    a = analyse(c, COSTS)
    assert a.total_revenue == D("2.35") * (8 * 240 + 8 * 120)
    assert c.gpus_by_model() == {"H100": 16}


def test_implied_price_is_the_fee_over_gpus_times_an_average_month() -> None:
    a = analyse(contract(), COSTS)
    assert float(a.implied_price_per_gpu_hour) == pytest.approx(1_000_000 / (1000 * 730.5), abs=5e-5)


@pytest.mark.parametrize(
    ("terms", "problem"),
    [
        ({"tenant": " "}, "tenant: must not be empty"),
        ({"tranches": ()}, "gpus: give at least one GPU model and count"),
        ({"tranches": (Tranche("H100", 0, 0, 10),)}, "gpus: 0 GPUs"),
        ({"tranches": (Tranche("H100", 8, 10, 10),)}, "start: must be before end"),
        ({"tranches": (Tranche("H100", 8, 10, 20),)}, "start: must be from 2000-01-01 to 2200-01-01"),
        ({"tranches": (Tranche("H100", 8, ts(2027, 1, 1), ts(2300, 1, 1)),)}, "end: must be from 2000-01-01"),
        ({"monthly_fee": None}, "monthly_fee, price_per_gpu_hour: give exactly one"),
        ({"monthly_fee": usd("0")}, "monthly_fee: 0 USD is out of range"),
        ({"monthly_fee": usd("1.001")}, "monthly_fee: 1.001 has more than 2 decimal places"),
        ({"ramp": (D("1.5"),)}, "ramp[0]: 1.5 is not a fraction"),
        ({"notice_days": -1}, "notice_days: -1 is not from 0"),
        ({"initial_months": 3}, "initial_months: only with notice_days"),
        ({"prepayment": Prepayment()}, "prepayment: give a share"),
        ({"prepayment": Prepayment(share=D(2))}, "prepayment: share 2 is not above 0"),
        ({"prepayment": Prepayment(amount=Money(D(5), "EUR"))}, "prepayment: 5 EUR is not in the contract's currency"),
        ({"ramp": (D(1),) * 13}, "ramp: 13 months of ramp in a 12-month term"),
    ],
)
def test_each_bad_term_is_named_with_its_problem(terms: dict[str, object], problem: str) -> None:
    problems = contract_problems(contract(**terms))
    assert any(p.startswith(problem) for p in problems), problems


def test_a_cost_basis_missing_a_model_or_a_bad_wacc_is_refused_naming_both() -> None:
    c = contract(tranches=whole_term({"B200": 8}, ts(2027, 1, 1), ts(2027, 2, 1)))
    with pytest.raises(RequestError) as e:
        analyse(c, COSTS, wacc=D("1.5"))
    assert e.value.problems[0].startswith("wacc: 1.5")
    assert "gpus: no tco for GPU model 'B200'" in e.value.problems[1]


# -- properties: totals are the sums of the rounded lines -----------------------------

START = ts(2027, 1, 31)
fees = st.decimals(min_value=D("0.01"), max_value=D(10**10), places=2)
ramps = st.lists(st.decimals(min_value=0, max_value=1, places=3), max_size=4).map(tuple)


@st.composite
def contracts(draw: st.DrawFn) -> Contract:
    end = START + draw(st.integers(min_value=5 * 86_400, max_value=1_200 * 86_400))
    notice = draw(st.none() | st.integers(min_value=0, max_value=400))
    share = draw(st.none() | st.decimals(min_value=D("0.01"), max_value=1, places=2))
    prepay = None if share is None else Prepayment(share=share, drawdown=draw(st.sampled_from(Drawdown)))
    c = contract(
        tranches=whole_term({"H100": draw(st.integers(1, 300_000)), "GB200": 72}, START, end),
        monthly_fee=Money(draw(fees)),
        ramp=draw(ramps),
        notice_days=notice,
        initial_months=0 if notice is None else draw(st.integers(0, 6)),
        prepayment=prepay,
        take_or_pay=draw(st.booleans()),
    )
    return c if not contract_problems(c) else contract()


@settings(max_examples=150, deadline=None)
@given(contracts())
def test_monthly_fees_sum_to_the_total_and_exit_splits_it_exactly(c: Contract) -> None:
    a = analyse(c, COSTS)
    assert sum(m.fee for m in a.months) == a.total_revenue == sum(ln.fee.amount for ln in a.lines)
    assert a.revenue_before_exit + a.revenue_at_risk == a.total_revenue
    assert sum(y.revenue for y in a.years) == a.total_revenue
    assert sum(y.tco for y in a.years) == a.total_tco
    assert all(ln.fee.amount == ln.fee.amount.quantize(D("0.01")) for ln in a.lines)


@settings(max_examples=150, deadline=None)
@given(contracts())
def test_the_prepayment_is_drawn_down_exactly_and_never_beyond_a_fee(c: Contract) -> None:
    a = analyse(c, COSTS)
    assert sum(m.drawdown for m in a.months) == a.prepayment
    assert all(D(0) <= ln.drawdown.amount <= ln.fee.amount for ln in a.lines)
    assert a.months[-1].cumulative == sum(m.net for m in a.months)


@settings(max_examples=100, deadline=None)
@given(contracts(), st.lists(st.integers(min_value=START, max_value=START + 1_300 * 86_400), max_size=5))
def test_cutting_the_schedule_anywhere_keeps_every_line_inside_one_month(c: Contract, cuts: list[int]) -> None:
    lines = schedule(c, COSTS, cuts)
    assert lines[0].start_s == c.start_s
    assert lines[-1].end_s == c.end_s
    assert all(x.end_s == y.start_s for x, y in itertools.pairwise(lines))
    for ln in lines:
        assert add_months(c.start_s, ln.month - 1) <= ln.start_s < ln.end_s <= add_months(c.start_s, ln.month)
