"""The worked example of docs/economics.md, "Deal analysis", run by its documented
command (``neocloud plan deal --seed colossus-1 --json``) and checked against
arithmetic done here: the calendar, the cost model's per-GPU figures and the demo's
lease records, not the deal module's own lines."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from neocloud import bootstrap
from neocloud.adapters.assumptions import load_assumptions
from neocloud.cli.main import app
from neocloud.domain.clock import ManualClock
from neocloud.domain.leases import LIVE_STATES, Tier
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.economics.cost import CostInputs, tco
from neocloud.services.deals import OPERATING_LINES
from neocloud.services.demo import build_demo

FEE = 1_250_000_000
HOURS_PER_MONTH = 8766 / 12  # economics.md [D] §1.8 uses 730.5 h
START = datetime(2026, 5, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["plan", "deal", "--seed", "colossus-1", "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def gpus() -> Counter[str]:
    """The preset's GPUs, counted from its nodes."""
    count: Counter[str] = Counter()
    for node in build_fleet(preset("colossus-1")).nodes:
        count[node.gpu_model] += node.gpu_count
    return count


@pytest.fixture(scope="module")
def costs() -> dict[str, Any]:
    """The cost model's TCO per model at the preset's site (shipped assumptions)."""
    site = build_fleet(preset("colossus-1")).sites[0]
    assumptions = load_assumptions()
    return {m: tco(CostInputs.resolve(assumptions, m, site)) for m in ("H100", "H200", "GB200")}


def days(a: date, b: date) -> int:
    return (b - a).days


def test_the_seed_is_the_whole_site_and_the_implied_price_is_the_fee_over_gpu_hours(
    seed: dict[str, Any], gpus: Counter[str]
) -> None:
    assert seed["gpus_by_model"] == dict(gpus)
    assert seed["gpus"] == sum(gpus.values()) == 230_024
    implied = FEE / (sum(gpus.values()) * HOURS_PER_MONTH)
    assert float(seed["implied_price_per_gpu_hour"]) == pytest.approx(implied, abs=5e-5)  # 7.4390
    # economics.md's two readings bracket it: $5.27 over 325k GPUs, $7.78 over 220k.
    assert pytest.approx(5.27, abs=0.005) == FEE / (325_000 * HOURS_PER_MONTH)
    assert 5.27 < implied < 7.78
    on_demand, contract = seed["market"]
    assert (on_demand["price_per_gpu_hour"], contract["price_per_gpu_hour"]) == ("3.99", "2.35")
    assert on_demand["implied_over_market"] == pytest.approx(implied / 3.99, rel=1e-4)


def test_revenue_is_36_anniversary_months_with_a_half_fee_ramp_and_a_partial_last_month(seed: dict[str, Any]) -> None:
    # Months 1-2 at half the fee, months 3-36 in full, month 37 from 2029-05-06 to the end
    # on 2029-06-01: 26 of the 31 days from 2029-05-06 to 2029-06-06.
    partial = Decimal(FEE) * days(date(2029, 5, 6), date(2029, 6, 1)) / days(date(2029, 5, 6), date(2029, 6, 6))
    total = 2 * Decimal(FEE) / 2 + 34 * Decimal(FEE) + partial
    assert Decimal(seed["total_revenue"]) == total.quantize(Decimal("0.01"))
    assert seed["annual_revenue"] == "15000000000.00"  # $15B a year [R50]


def test_the_earliest_exit_is_90_days_after_the_first_three_months_and_the_rest_is_at_risk(
    seed: dict[str, Any],
) -> None:
    assert seed["earliest_notice"] == "2026-08-06T00:00:00Z"
    assert seed["earliest_exit"] == "2026-11-04T00:00:00Z"  # 2026-08-06 + 90 days
    # At risk: 2 of the 31 days of month 6 (2026-10-06 to 11-06), months 7-36, the partial month 37.
    month6 = Decimal(FEE) * 2 / 31
    partial = Decimal(FEE) * 26 / 31
    at_risk = month6.quantize(Decimal("0.01")) + 30 * FEE + partial.quantize(Decimal("0.01"))
    assert Decimal(seed["revenue_at_risk"]) == at_risk
    assert Decimal(seed["revenue_before_exit"]) + Decimal(seed["revenue_at_risk"]) == Decimal(seed["total_revenue"])


def test_annual_tco_and_gross_margin_come_from_the_cost_models_per_gpu_hour(
    seed: dict[str, Any], gpus: Counter[str], costs: dict[str, Any]
) -> None:
    annual = sum(float(costs[m].per_gpu_hour.amount) * n * 8766 for m, n in gpus.items())
    assert float(seed["annual_tco"]) == pytest.approx(annual, abs=0.01)
    assert seed["gross_margin"] == pytest.approx(1 - annual / 15e9)


def _flows(gpus: Counter[str], costs: dict[str, Any]) -> list[float]:
    """Month 0: minus the capex; month m: fee (ramp, partial month) less opex of its hours."""
    capex = sum(
        float(costs[m].capex_per_gpu.amount + costs[m].facility_capex_per_gpu.amount) * n for m, n in gpus.items()
    )
    opex_rate = sum(
        float(sum(costs[m].line(k).per_gpu_hour.amount for k in OPERATING_LINES)) * n for m, n in gpus.items()
    )
    flows = [-capex]
    starts = [date(2026 + (4 + k) // 12, (4 + k) % 12 + 1, 6) for k in range(38)]  # 2026-05-06, 06-06, ...
    for k in range(37):
        begin, end = starts[k], min(starts[k + 1], date(2029, 6, 1))
        fee = FEE * (0.5 if k < 2 else 1.0) * days(begin, end) / days(starts[k], starts[k + 1])
        flows.append(fee - opex_rate * days(begin, end) * 24)
    return flows


def test_npv_irr_and_payback_match_flows_built_here(
    seed: dict[str, Any], gpus: Counter[str], costs: dict[str, Any]
) -> None:
    flows = _flows(gpus, costs)
    r = (1 + seed["wacc"]) ** (1 / 12) - 1
    npv = sum(f / (1 + r) ** k for k, f in enumerate(flows))
    assert float(seed["npv"]) == pytest.approx(npv, rel=1e-9)
    irr = seed["irr_monthly"]
    assert sum(f / (1 + irr) ** k for k, f in enumerate(flows)) == pytest.approx(0, abs=1e3)
    assert seed["irr_annual"] == pytest.approx((1 + irr) ** 12 - 1)
    cumulative = [sum(flows[: k + 1]) for k in range(len(flows))]
    assert seed["payback_month"] == next(k for k, c in enumerate(cumulative) if c >= 0)


def test_in_the_demo_book_the_deal_is_the_top_tenant_by_its_share_of_the_backlog(seed: dict[str, Any]) -> None:
    demo = bootstrap.in_memory(ManualClock(START))
    build_demo(demo)
    others = sum(_revenue(demo, le) for le in demo.leasing.leases() if le.state in LIVE_STATES)
    total = Decimal(seed["total_revenue"])
    book = seed["book"]
    assert book["top_tenant"] == "anthropic"
    assert book["top1_backlog_share"] == pytest.approx(float(total / (total + others)), rel=1e-9)
    assert book["hhi"] > 9_900  # a one-tenant book is 10,000


def _revenue(demo: Any, lease: Any) -> Decimal:
    """A demo lease's contracted revenue, from its record: the wholesale one (one year from
    START, 12 calendar months) pays its card's monthly fee less the ramp's discounts; any
    other its rate on its GPU-hours."""
    if lease.request.tier is not Tier.WHOLESALE:
        hours = sum(Decimal(s.gpus * (s.end_s - s.start_s)) / 3600 for s in lease.contract)
        return lease.price_per_gpu_hour.amount * hours
    book = next(b for b in demo.pricing.versions() if b.version == lease.request.price_version)
    card = next(c for c in book.cards.wholesale if c.model == lease.model)
    fee = (card.gpu_month.amount * lease.gpus).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    assert lease.end_s - lease.start_s == 365 * 86_400  # 2027-01-04 to 2028-01-04: 12 months
    return sum(fee * (1 - next((r.discount for r in card.ramp if r.month == m), Decimal(0))) for m in range(1, 13))


def test_the_figures_in_docs_economics_md_are_the_commands(seed: dict[str, Any]) -> None:
    """The worked example's table, as the command prints it."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "economics.md").read_text()
    deal = doc[doc.index("## Deal analysis") :]
    section = deal[deal.index("### Worked example") :]
    assert f"${float(seed['total_revenue']):,.2f}" in section
    assert f"**${seed['implied_price_per_gpu_hour']} per GPU-hour**" in section
    assert f"**${float(seed['revenue_at_risk']) / 1e9:.2f}B" in section
    assert f"{seed['earliest_notice'][:10]} / {seed['earliest_exit'][:10]}" in section
    assert f"payback in month {seed['payback_month']}" in section
    # And those the cost model gives: a change to its assumptions must update the docs.
    assert f"| annual TCO (cost model) | ${float(seed['annual_tco']) / 1e9:.2f}B" in section
    assert f"| capex used at the start | ${float(seed['capex']) / 1e9:.2f}B |" in section
    assert f"| NPV at 9.6875% | ${float(seed['npv']) / 1e9:.2f}B |" in section
    assert f"| gross margin | {100 * seed['gross_margin']:.1f}% at the run rate" in section
    assert f"{100 * seed['irr_annual']:.1f}% a year" in section
