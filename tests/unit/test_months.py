"""Contract months (economics/months.py): anniversary months that tile a term, the day
clamped to the month's length, each ending where the next begins."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from neocloud.domain.leases import Segment, Tier
from neocloud.domain.money import Money
from neocloud.economics.contract import Contract, Tranche
from neocloud.economics.deal import schedule
from neocloud.economics.months import add_months, contract_month, contract_months, month_starts
from neocloud.economics.pricebook import PriceBook, charges, price_for
from neocloud.economics.pricebook_defaults import default_cards

DAY = 86_400


def _s(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


@given(start=st.integers(_s(2000, 1, 1), _s(2100, 1, 1)), length=st.integers(1, 3_000 * DAY))
def test_contract_months_tile_the_term_without_gaps(start: int, length: int) -> None:
    months = contract_months(start, start + length)
    assert months[0][0] == start
    assert all(a[1] == b[0] for a, b in itertools.pairwise(months))
    assert months[-1][0] < start + length <= months[-1][1]
    starts = month_starts(start, start + length)
    assert [contract_month(starts, t) for t, _ in months] == list(range(1, len(months) + 1))


def test_a_term_from_the_31st_has_a_31_day_march_month_after_a_clamped_february() -> None:
    months = contract_months(_s(2027, 1, 31), _s(2027, 5, 1))
    assert [datetime.fromtimestamp(t, UTC).day for t, _ in months] == [31, 28, 31, 30]
    assert (months[1][1] - months[1][0]) // DAY == 31  # 28 Feb to 31 Mar, not to 28 Mar
    assert add_months(_s(2027, 2, 28), 1) == _s(2027, 3, 28)  # why the end is not start + 1 month


def test_a_whole_wholesale_month_from_a_clamped_start_is_the_fee_to_the_cent() -> None:
    start = _s(2027, 1, 31)
    price = price_for(PriceBook(1, 0, default_cards()), Tier.WHOLESALE, "H100", start, _s(2028, 1, 31))
    lines = charges(price, [Segment(start, _s(2027, 7, 31), 1_000)])
    fee = price.per_gpu_month
    assert fee is not None
    assert [line.month for line in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[-1].amount.amount == (fee.amount * 1_000).quantize(Decimal("0.01"))
    assert sum(line.gpu_s for line in lines) == 1_000 * (_s(2027, 7, 31) - start)


def test_a_deals_whole_month_from_a_clamped_start_is_its_monthly_fee() -> None:
    start, end = _s(2027, 1, 31), _s(2027, 4, 30)
    fee = Money(Decimal("1000000.00"))
    contract = Contract("t", "s", (Tranche("H100", 100, start, end),), monthly_fee=fee)
    lines = schedule(contract)
    march = [line for line in lines if line.month == 2]
    assert sum(line.fee.amount for line in march) == fee.amount  # 28 Feb to 31 Mar, billed whole
