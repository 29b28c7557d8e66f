"""The one money format and the one share format of human tables (CLI and pages)."""

from __future__ import annotations

from decimal import Decimal

from neocloud.cli.plan_deal import _pct
from neocloud.cli.plan_deal import money as cli_money
from neocloud.domain.money import percent, short_amount
from neocloud.web.deals import money as page_money
from neocloud.web.deals import pct as page_pct


def test_a_small_and_a_large_sum_share_one_compact_format() -> None:
    assert [short_amount(Decimal(x)) for x in ("191308.80", "9310000", "44800000000", "950")] == [
        "191.31K",
        "9.31M",
        "44.80B",
        "950.00",
    ]
    assert cli_money(Decimal("191308.80")) == page_money(Decimal("191308.80")) == "191.31K"


def test_a_whole_campus_deal_beside_small_tenants_is_not_shown_as_100_and_0_percent() -> None:
    assert percent(0.9997) == "99.97%"
    assert percent(0.0003) == "0.03%"
    assert percent(0.00001) == "<0.01%"
    assert percent(0.75) == "75.0%"
    assert percent(1.0) == "100.0%"
    assert _pct(0.9997) == page_pct(0.9997) == "99.97%"
