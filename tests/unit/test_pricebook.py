"""The price book's pure core: versions in force, prices per tier, the seeded values
and their sources, validation naming each field, and the money arithmetic."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.domain.leases import Segment, Tier
from neocloud.domain.money import Money
from neocloud.economics.months import add_months
from neocloud.economics.pricebook import (
    OnDemandCard,
    Price,
    PriceBook,
    PriceRefused,
    RampStep,
    RateCards,
    ReservedCard,
    SpotCard,
    TermDiscount,
    WholesaleCard,
    book_problems,
    charges,
    in_force,
    margin,
    price_for,
    price_term,
    priced_at,
    publish_problems,
)
from neocloud.economics.pricebook_defaults import default_cards

DAY = 86_400
YEAR = 365 * DAY
SEEDED = PriceBook(1, 0, default_cards())


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def book(version: int, effective_s: int, rate: str = "3.00") -> PriceBook:
    return PriceBook(version, effective_s, RateCards(on_demand=(OnDemandCard("H100", usd(rate)),)))


# -- versions ---------------------------------------------------------------------------
def test_the_book_in_force_is_the_latest_version_that_has_taken_effect() -> None:
    versions = [book(1, 0), book(2, 100), book(3, 200)]
    assert in_force(versions, -1) is None
    assert [in_force(versions, t).version for t in (0, 99, 100, 199, 200, 10**9)] == [1, 1, 2, 2, 3, 3]  # type: ignore[union-attr]


def test_a_new_version_takes_effect_now_or_later_and_never_before_the_latest() -> None:
    assert publish_problems(100, 100, book(1, 50)) == []
    assert publish_problems(99, 100, None) == ["effective: is in the past; a new version takes effect now or later"]
    assert publish_problems(150, 100, book(1, 200)) == [
        "effective: is before version 1's; versions take effect in order"
    ]


def test_a_new_version_keeps_the_books_currency() -> None:
    latest = book(1, 50)
    assert publish_problems(100, 100, latest, latest.cards.currency) == []
    assert publish_problems(100, 100, latest, "JPY") == [
        f"currency: JPY differs from version 1's {latest.cards.currency}; the price book keeps one currency"
    ]
    assert publish_problems(100, 100, None, "JPY") == []  # the first version chooses it


# -- the seeded defaults (economics.md §1.8 and §6) ----------------------------------------
def test_seeded_on_demand_rates_are_the_september_2026_neocloud_list_prices() -> None:
    rates = {m: price_for(SEEDED, Tier.ON_DEMAND, m, 0, DAY).rate for m in ("H100", "H200", "B200", "GB200")}
    assert rates == {"H100": usd("3.99"), "H200": usd("4.50"), "B200": usd("6.69"), "GB200": usd("10.50")}


def test_seeded_one_year_reserved_h100_is_the_march_2026_contract_price_to_the_cent() -> None:
    one_year = price_for(SEEDED, Tier.RESERVED, "H100", 0, YEAR)
    assert one_year.rate.amount.quantize(Decimal("0.01")) == Decimal("2.35")  # [R5]
    five_years = price_for(SEEDED, Tier.RESERVED, "H100", 0, 1826 * DAY)
    assert five_years.discount == Decimal("0.60")  # reserved_discount_max [R29]


def test_a_longer_reserved_term_never_costs_more_per_gpu_hour() -> None:
    for model in ("H100", "H200", "B200", "GB200"):
        rates = [price_for(SEEDED, Tier.RESERVED, model, 0, d * DAY).rate.amount for d in range(0, 2000, 7)]
        assert rates == sorted(rates, reverse=True), model


def test_a_reserved_term_takes_the_discount_of_the_longest_row_it_reaches() -> None:
    assert price_for(SEEDED, Tier.RESERVED, "H100", 0, 29 * DAY).discount == 0
    assert price_for(SEEDED, Tier.RESERVED, "H100", 0, 30 * DAY).discount == Decimal("0.10")
    assert price_for(SEEDED, Tier.RESERVED, "H100", 0, 364 * DAY).discount == Decimal("0.30")


def test_spot_is_the_on_demand_rate_less_its_discount_with_an_eviction_notice() -> None:
    spot = price_for(SEEDED, Tier.SPOT, "H100", 0, DAY)
    assert (spot.rate, spot.discount, spot.eviction_notice_s) == (usd("1.5960"), Decimal("0.60"), 1800)


def test_seeded_wholesale_is_the_iren_microsoft_rate_per_mw_over_each_gpus_it_power() -> None:
    # $9.7B / 5 y / 200 MW = $9.7M per MW-IT-year [R69]; an HGX H100 GPU draws 10.2 kW / 8
    assert price_for(SEEDED, Tier.WHOLESALE, "H100", 0, YEAR).per_gpu_month == usd("1030.6250")
    assert price_for(SEEDED, Tier.WHOLESALE, "GB200", 0, YEAR).per_gpu_month == usd("1347.2222")


def test_a_model_without_a_card_is_refused_naming_the_tier_and_what_is_priced() -> None:
    with pytest.raises(PriceRefused, match="no spot card for MI300X; spot prices: H100, H200, B200, GB200"):
        price_for(SEEDED, Tier.SPOT, "MI300X", 0, DAY)


# -- wholesale months -----------------------------------------------------------------------
def test_a_whole_wholesale_month_costs_the_gpu_month_fee_to_the_cent_less_its_ramp() -> None:
    price = price_for(SEEDED, Tier.WHOLESALE, "H100", 0, YEAR)
    lines = charges(price, [Segment(0, add_months(0, 3), 1_000)])  # January to March 1970: 31, 28, 31 days
    assert [line.amount for line in lines] == [usd("515312.50"), usd("772968.75"), usd("1030625.00")]
    assert [price.monthly_fee(1_000, m) for m in (1, 2, 3)] == [line.amount for line in lines]


def test_a_unit_fee_is_spread_over_the_gpus_of_its_unit() -> None:
    card = WholesaleCard("GB200", monthly_fee=usd("97000"), unit_gpus=72)
    cards = RateCards(wholesale=(card,))
    assert book_problems(cards) == []
    month = add_months(0, 1)
    lines = charges(price_for(PriceBook(1, 0, cards), Tier.WHOLESALE, "GB200", 0, month), [Segment(0, month, 144)])
    assert [line.amount for line in lines] == [usd("194000.00")]  # two racks, one month


# -- validation: each problem names its field ---------------------------------------------------
def test_every_problem_of_a_version_names_its_field() -> None:
    cards = RateCards(
        on_demand=(OnDemandCard("H100", usd("-1")), OnDemandCard("H100", usd("2.123456"))),
        reserved=(
            ReservedCard("H100", usd("3.99"), (TermDiscount(365, Decimal("0.4")), TermDiscount(30, Decimal("1")))),
        ),
        spot=(SpotCard("B200", Decimal("-0.1"), 60),),
        wholesale=(WholesaleCard("H100", ramp=(RampStep(2, Decimal("0.5")), RampStep(2, Decimal("0.1")))),),
    )
    fields = [p.split(":")[0] for p in book_problems(cards)]
    assert fields == [
        "on_demand[1].model",  # a second card for the same model
        "wholesale[0]",  # neither per_gpu_month nor monthly_fee
        "wholesale[0].ramp[1].month",  # not after the previous row
        "reserved[0].discounts[1].min_term_days",  # unsorted
        "reserved[0].discounts[1].discount",  # 1 is outside [0, 1)
        "on_demand[0].rate",  # negative
        "on_demand[1].rate",  # more than 4 decimal places
        "spot[0].discount",
        "spot[0].model",  # no on-demand card to discount
    ]


def test_the_seeded_defaults_pass_their_own_rules() -> None:
    assert book_problems(default_cards()) == []


# -- money: lines rounded once, totals are the sum of lines ----------------------------------------
@settings(max_examples=200, deadline=None)
@given(
    tier=st.sampled_from(list(Tier)),
    model=st.sampled_from(["H100", "H200", "B200", "GB200"]),
    start_s=st.integers(0, 10 * YEAR),
    lengths=st.lists(st.integers(1, 400 * DAY), min_size=1, max_size=4),
    gpus=st.lists(st.integers(1, 100_000), min_size=4, max_size=4),
)
def test_a_terms_total_is_the_sum_of_its_lines_each_rounded_to_cents(
    tier: Tier, model: str, start_s: int, lengths: list[int], gpus: list[int]
) -> None:
    bounds = [start_s]
    for n in lengths:
        bounds.append(bounds[-1] + n)
    contract = [Segment(a, b, g) for a, b, g in zip(bounds, bounds[1:], gpus, strict=False)]
    priced = price_term(SEEDED, tier, {model: max(gpus)}, contract)
    assert priced.total.amount == sum(line.amount.amount for line in priced.lines)
    assert all(line.amount.amount == line.amount.amount.quantize(Decimal("0.01")) for line in priced.lines)
    gpu_s = sum(s.gpus * (s.end_s - s.start_s) for s in contract)
    assert sum(line.gpu_s for line in priced.lines) == gpu_s  # every contracted GPU-second is in exactly one line
    if tier is not Tier.WHOLESALE:  # no ramp: each line is within half a cent of its hours at the rate
        for line in priced.lines:
            assert abs(line.amount.amount - line.gpu_hours * priced.rate.amount) <= Decimal("0.005")


def test_a_whole_site_of_two_models_is_priced_per_model_and_weighted_per_gpu() -> None:
    priced = price_term(SEEDED, Tier.ON_DEMAND, {"H100": 300, "GB200": 100}, [Segment(0, 10 * 3600, 400)])
    assert priced.rate == usd("5.6175")  # (300 x 3.99 + 100 x 10.50) / 400
    assert priced.total == usd("22470.00")  # 3,000 h x 3.99 + 1,000 h x 10.50


# -- margin -----------------------------------------------------------------------------------
def test_the_margin_is_the_rate_less_tco_and_unknown_without_a_tco() -> None:
    priced = price_term(SEEDED, Tier.RESERVED, {"H100": 8}, [Segment(0, YEAR, 8)])
    m = margin(priced, {"H100": usd("1.50")})  # tco_usd_per_gpu_hour_owner H100 [R1]
    assert m is not None
    assert (m.tco_per_gpu_hour, m.per_gpu_hour) == (usd("1.5000"), usd("0.8501"))
    assert m.total.amount == priced.total.amount - Decimal("105120.00")  # 70,080 GPU-hours at 1.50
    assert margin(priced, {"H100": None}) is None
    assert margin(priced, {}) is None
    assert margin(priced, {"H100": Money(Decimal("1.50"), "EUR")}) is None


def test_a_later_card_change_makes_a_new_version_and_leaves_the_old_one_as_it_was() -> None:
    v1 = SEEDED
    v2 = replace(
        v1, version=2, effective_s=100, cards=replace(v1.cards, on_demand=(OnDemandCard("H100", usd("4.25")),))
    )
    assert price_for(in_force([v1, v2], 99), Tier.ON_DEMAND, "H100", 0, 1).rate == usd("3.99")  # type: ignore[arg-type]
    assert price_for(in_force([v1, v2], 100), Tier.ON_DEMAND, "H100", 0, 1).rate == usd("4.25")  # type: ignore[arg-type]


def test_a_segment_split_over_two_models_bills_every_one_of_its_gpu_hours() -> None:
    """A segment of 10 GPUs over nodes holding 16 H100 and 8 H200: 7 + 3 (the remainder to
    the larger), not 6 + 3 with one GPU-hour lost to flooring (review of issue 10)."""
    h100 = Price(Tier.ON_DEMAND, "H100", 0, Money(Decimal(2)))
    h200 = Price(Tier.ON_DEMAND, "H200", 0, Money(Decimal(3)))
    priced = priced_at([h100, h200], {"H100": 16, "H200": 8}, [Segment(0, 3600, 10)])
    assert priced.gpu_hours == 10
    assert priced.total.amount == Decimal("23.00")  # 7 x 2 + 3 x 3
