"""Rate-card documents: stored versions round-trip exactly, and a bad document names
every field it gets wrong (structure first, then the price book's rules)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.adapters.pricefile import cards_from_json, cards_to_json, parse_rate_cards
from neocloud.domain.errors import SpecError
from neocloud.domain.money import Money
from neocloud.economics.pricebook import (
    OnDemandCard,
    RampStep,
    RateCards,
    ReservedCard,
    SpotCard,
    TermDiscount,
    WholesaleCard,
)
from neocloud.economics.pricebook_defaults import default_cards

MODELS = st.sampled_from(["H100", "H200", "B200", "GB200", "MI300X"])
AMOUNTS = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100_000), places=4).map(Money)
FRACTIONS = st.decimals(min_value=Decimal(0), max_value=Decimal("0.9999"), places=4)


@st.composite
def rate_cards(draw: st.DrawFn) -> RateCards:
    def rows(make: st.SearchStrategy[int]) -> list[int]:
        return sorted(set(draw(st.lists(make, max_size=5))))

    reserved = tuple(
        ReservedCard(m, draw(AMOUNTS), tuple(TermDiscount(d, draw(FRACTIONS)) for d in rows(st.integers(0, 4000))))
        for m in draw(st.lists(MODELS, unique=True))
    )
    wholesale = tuple(
        WholesaleCard(
            m, per_gpu_month=draw(AMOUNTS), ramp=tuple(RampStep(k, draw(FRACTIONS)) for k in rows(st.integers(1, 24)))
        )
        if draw(st.booleans())
        else WholesaleCard(m, monthly_fee=draw(AMOUNTS), unit_gpus=draw(st.integers(1, 100_000)))
        for m in draw(st.lists(MODELS, unique=True))
    )
    on_demand = tuple(OnDemandCard(m, draw(AMOUNTS)) for m in draw(st.lists(MODELS, unique=True)))
    spot = tuple(
        SpotCard(c.model, draw(FRACTIONS), draw(st.integers(0, 86_400))) for c in on_demand if draw(st.booleans())
    )
    return RateCards(wholesale, reserved, on_demand, spot)


@settings(max_examples=100, deadline=None)
@given(cards=rate_cards())
def test_a_stored_version_reads_back_exactly(cards: RateCards) -> None:
    stored = json.loads(json.dumps(cards_to_json(cards)))  # as the database's JSON column keeps it
    assert cards_from_json(stored) == cards


def test_the_seeded_defaults_read_back_exactly() -> None:
    assert cards_from_json(cards_to_json(default_cards())) == default_cards()


@pytest.mark.parametrize(
    ("text", "location", "problem"),
    [
        ("[]", "", "must be a mapping"),
        ("surge: []", "surge", "unknown field"),
        ("currency: usd", "currency", "3-letter ISO 4217"),
        ("on_demand: {model: H100}", "on_demand", "must be a list"),
        ("on_demand: [{model: H100}]", "on_demand[0].rate", "missing"),
        ("on_demand: [{rate: '3'}]", "on_demand[0].model", "give the GPU model"),
        ("on_demand: [{model: H100, rate: cheap}]", "on_demand[0].rate", "'cheap' is not a number"),
        ("on_demand: [{model: H100, rate: '3 EUR'}]", "on_demand[0].rate", "the document's (USD)"),
        ("on_demand: [{model: H100, rate: .nan}]", "on_demand[0].rate", "not a finite number"),
        ("on_demand: [{model: H100, rate: '3', speed: 1}]", "on_demand[0].speed", "unknown field"),
        ("spot: [{model: H100, discount: '0.5', eviction_notice_s: 1.5}]", "spot[0].eviction_notice_s", "whole number"),
        ("reserved: [{model: H100, base: '3', discounts: [7]}]", "reserved[0].discounts[0]", "must be a mapping"),
    ],
)
def test_a_badly_shaped_document_names_the_field(text: str, location: str, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_rate_cards(text, "cards.yaml", ".yaml")
    found = [(e.location, e.message) for e in caught.value.errors]
    assert any(loc == location and problem in msg for loc, msg in found), found


def test_an_unknown_suffix_and_broken_syntax_are_named() -> None:
    with pytest.raises(SpecError, match=r"unknown suffix '\.xml'"):
        parse_rate_cards("", "cards.xml", ".xml")
    with pytest.raises(SpecError, match="not valid TOML"):
        parse_rate_cards("on_demand = [", "cards.toml", ".toml")
    with pytest.raises(SpecError, match="not valid JSON"):
        parse_rate_cards("{", "cards.json", ".json")
