"""Keep or lease, the two more ways to sell what is leased: at a tier of the price book (one
tenant, each GPU model at its own card) and to a stream of lease requests (the leasing engine
on the leased units alone)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from neocloud import bootstrap
from neocloud.adapters.lease_requests import read_lease_requests
from neocloud.domain.errors import RequestError
from neocloud.domain.fleet import Fleet
from neocloud.domain.leases import Tier
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.domain.workload import TraceJob
from neocloud.economics.pricebook import PriceBook, RampStep, WholesaleCard, price_for
from neocloud.placement.snapshot import FleetSnapshot, build_snapshot
from neocloud.services.deals import CostSource
from neocloud.services.keep_vs_lease import LeaseTerms, Study, study
from neocloud.services.keep_vs_lease_demand import DemandOffer
from neocloud.services.keep_vs_lease_tier import tier_problems
from neocloud.sim.keep_vs_lease import CandidateLevel, Unit, candidate_units
from neocloud.sim.lease_demand import ORIGIN_S, replay, seeded_book

HEALTHY = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}
YEAR_S = 365 * 86_400
#: The internal work: a few small jobs that fit what stays at every fraction.
TRACE = [TraceJob(str(k), k * 600.0, 8, 3600.0) for k in range(6)]


@pytest.fixture(scope="module")
def demo() -> tuple[Fleet, FleetSnapshot]:
    fleet = build_fleet(preset("demo", HEALTHY))
    return fleet, build_snapshot(fleet)


@pytest.fixture(scope="module")
def costs() -> CostSource:
    return bootstrap.deal_costs()


def _study(demo: tuple[Fleet, FleetSnapshot], costs: CostSource, units: list[Unit], terms: LeaseTerms) -> Study:
    fleet, snap = demo
    return study(
        fleet, snap, lambda: TRACE, units=units, fractions=[0, 0.5, 1], terms=terms, costs=costs, policy="fifo", scale=1
    )


def _west_pods(snap: FleetSnapshot) -> list[Unit]:
    return candidate_units(snap, CandidateLevel.PODS, ("demo-west",))  # dw-pod01 H100, dw-pod02 H200


def _two_cards() -> PriceBook:
    """The seeded book with H100 and H200 at different wholesale cards (seeded: the same)."""
    seeded = seeded_book()
    cards = tuple(
        WholesaleCard(m, per_gpu_month=Money(Decimal(fee)), ramp=(RampStep(1, Decimal("0.5")),))
        for m, fee in (("H100", "1000"), ("H200", "1500"), ("GB200", "2500"))
    )
    return replace(seeded, cards=replace(seeded.cards, wholesale=cards))


def test_a_tier_prices_each_gpu_model_of_a_sites_lease_at_its_own_card(demo, costs):
    book = _two_cards()
    terms = LeaseTerms("newco", ORIGIN_S, ORIGIN_S + 3 * YEAR_S, tier=Tier.WHOLESALE, book=book)
    whole = _study(demo, costs, _west_pods(demo[1]), terms).options[-1]
    fees = {d.analysis.contract.tranches[0].model: d.analysis.contract.monthly_fee for d in whole.deals}
    assert fees == {"H100": Money(Decimal("512000.00")), "H200": Money(Decimal("768000.00"))}  # 512 GPUs each
    assert {d.site.name for d in whole.deals} == {"demo-west"}
    assert all(d.analysis.contract.ramp == (Decimal("0.5"),) for d in whole.deals)  # the card's ramp
    assert whole.total_revenue == sum((d.analysis.total_revenue for d in whole.deals), Decimal(0))
    assert (whole.top1_share, whole.hhi) == (1.0, 10_000.0)  # one tenant, however many deals

    reserved = replace(terms, tier=Tier.RESERVED, book=seeded_book())
    half = _study(demo, costs, _west_pods(demo[1]), reserved).options[1]  # dw-pod02: H200
    (deal,) = half.deals
    card = price_for(seeded_book(), Tier.RESERVED, "H200", terms.start_s, terms.end_s)
    assert (
        deal.analysis.contract.price_per_gpu_hour == card.rate == Money(Decimal("2.2252"))
    )  # 4.50 less 50.55% (3 years)


def test_exactly_one_way_of_selling_and_a_model_without_a_card_is_named(demo, costs):
    units = _west_pods(demo[1])
    base = LeaseTerms("newco", ORIGIN_S, ORIGIN_S + YEAR_S, book=seeded_book())
    for terms in (
        base,
        replace(base, tier=Tier.WHOLESALE, price_per_gpu_hour=Money(Decimal(2))),
        replace(base, monthly_fee=Money(Decimal(10**6)), demand=DemandOffer((), seeded_book())),
    ):
        with pytest.raises(RequestError, match="price_per_gpu_hour, monthly_fee, tier, demand: give exactly one"):
            _study(demo, costs, units, terms)
    no_h200 = replace(
        seeded_book(),
        cards=replace(
            seeded_book().cards, wholesale=tuple(c for c in seeded_book().cards.wholesale if c.model != "H200")
        ),
    )
    with pytest.raises(RequestError, match="tier: the price book v1 has no wholesale card for H200"):
        _study(demo, costs, units, replace(base, tier=Tier.WHOLESALE, book=no_h200))
    assert tier_problems(seeded_book(), "gold", [], 0, 1) == ["tier: 'gold' is not a tier; one of wholesale, reserved"]
    assert "commits nothing" in tier_problems(seeded_book(), "spot", [], 0, 1)[0]


def _requests(tmp_path: Path, rows: str) -> tuple:
    path = tmp_path / "requests.csv"
    path.write_text("id,arrival_s,tenant,shape,term_days,tier\n" + rows)
    return tuple(read_lease_requests(path))


STREAM = (
    "west-h200,0,acme,256xH200@block,365,reserved\n"
    "west-h100,60,beta,256xH100@block,365,reserved\n"
    "rental,120,gamma,8,7,on_demand\n"
    "second-h100,180,delta,256xH100@block,730,reserved\n"
    "too-big,240,acme,1024,30,reserved\n"
)


def test_a_stream_books_more_the_more_is_leased_and_is_what_the_replay_books_on_those_units(demo, costs, tmp_path):
    _fleet, snap = demo
    requests = _requests(tmp_path, STREAM)
    offer = DemandOffer(requests, seeded_book())
    terms = LeaseTerms("", ORIGIN_S, ORIGIN_S + 1, book=seeded_book(), demand=offer)
    none, half, whole = _study(demo, costs, _west_pods(snap), terms).options
    assert none.demand is not None
    assert half.demand is not None
    assert whole.demand is not None
    assert (none.demand.requests, none.demand.accepted, none.total_revenue, none.npv) == (0, 0, 0, 0)  # offers nothing
    assert 0 < half.demand.accepted < whole.demand.accepted
    assert whole.demand.lessees > 1
    assert 0 < whole.hhi < 10_000
    assert whole.top1_share < 1
    assert whole.revenue_at_risk > 0  # the on-demand rental can walk away
    assert whole.demand.refused >= 1
    assert whole.demand.revenue_refused > 0

    # the same stream replayed on a fleet of demo-west alone, built apart from the study
    spec = preset("demo", HEALTHY)
    west = build_fleet(replace(spec, sites=tuple(s for s in spec.sites if s.name == "demo-west")))
    alone = replay(west, requests, seeded_book())
    assert whole.demand.run is not None
    assert [o.request.id for o in whole.demand.run.outcomes if o.accepted] == [
        o.request.id for o in alone.outcomes if o.accepted
    ]
    assert whole.total_revenue == sum((o.revenue for o in alone.outcomes if o.accepted), Decimal(0))


def test_one_request_taking_the_whole_leased_block_is_worth_what_the_tier_deal_is(demo, costs, tmp_path):
    """Sold to a stream of one request for the whole leased part, the NPV (fees less cash
    cost, discounted at the deal analysis' WACC, the capex once) is the one-tenant deal's."""
    _fleet, snap = demo
    blocks = candidate_units(snap, CandidateLevel.BLOCKS, ("demo-west",))[-1:]  # the last H200 block
    requests = _requests(tmp_path, "only,0,acme,256xH200@block,365,reserved\n")
    demand = LeaseTerms("", ORIGIN_S, ORIGIN_S + 1, book=seeded_book(), demand=DemandOffer(requests, seeded_book()))
    tier = LeaseTerms("acme", ORIGIN_S, ORIGIN_S + YEAR_S, tier=Tier.RESERVED, book=seeded_book())
    sold = _study(demo, costs, blocks, demand).options[-1]
    deal = _study(demo, costs, blocks, tier).options[-1]
    assert sold.demand is not None
    assert sold.demand.accepted == 1
    assert sold.total_revenue == deal.total_revenue
    assert abs(sold.npv - deal.npv) <= Decimal("0.02")  # each rounded to cents once
    assert sold.npv < 0 < sold.npv + sold.demand.capex  # the capex is counted
    assert sold.revenue_at_risk == deal.revenue_at_risk == 0
