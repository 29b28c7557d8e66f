"""The /deals page's view models: the cash-flow chart's series and the concentration rows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from neocloud.economics.book import book
from neocloud.economics.contract import Prepayment
from neocloud.economics.deal import analyse
from neocloud.web.deals import cash_flow_chart, concentration_rows
from tests.unit.test_book import Y2027, YEAR, monthly
from tests.unit.test_deal import COSTS, contract


def test_the_chart_stacks_each_months_flows_to_its_net_and_draws_the_cumulative_cash() -> None:
    a = analyse(contract(prepayment=Prepayment(share=Decimal("0.2"))), COSTS)
    chart = cash_flow_chart(a)
    bars = [d for d in chart["datasets"] if d.get("type") != "line"]
    (opex,) = [d for d in chart["datasets"] if d["label"].startswith("operating cost")]
    (line,) = [d for d in chart["datasets"] if d["label"] == "cumulative cash"]
    assert chart["labels"][0] == "start"
    assert len(chart["labels"]) == len(a.months) == 13
    for k, m in enumerate(a.months):
        flows = sum(d["data"][k] for d in bars) + opex["data"][k]
        assert flows == pytest.approx(float(m.net) / 1e6, abs=1e-2)
        assert line["data"][k] == pytest.approx(float(m.cumulative) / 1e6, abs=1e-3)


def test_the_operating_cost_is_a_line_so_it_shows_beside_fees_of_millions() -> None:
    chart = cash_flow_chart(analyse(contract(), COSTS))
    (opex,) = [d for d in chart["datasets"] if d["label"].startswith("operating cost")]
    assert opex["type"] == "line"
    assert opex["stack"] != "flows"
    assert any(v < 0 for v in opex["data"])


def test_the_concentration_rows_end_with_a_total_that_is_their_sum() -> None:
    b = book([monthly("big", 3_000_000), monthly("small", 1_000_000)], Y2027, YEAR)
    *rows, total = concentration_rows(b)
    assert [r["tenant"] for r in rows] == ["big", "small"]
    assert total["tenant"] == "total"
    assert total["backlog"] == sum(r["backlog"] for r in rows) == b.backlog
    assert total["share"] == 1.0
