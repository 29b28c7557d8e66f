"""Lease demand through the leasing engine: exact outcomes on a toy fleet, revenue from
the price book, leases ending at their term, the measures over time, the pin effect."""

from __future__ import annotations

from decimal import Decimal

import pytest

from neocloud.domain.demand import DemandRequest, parse_shape
from neocloud.domain.errors import RequestError
from neocloud.domain.fleet import Fleet
from neocloud.domain.leases import LeaseRequest, Tier
from neocloud.domain.shape import Shape
from neocloud.domain.spec import build_fleet
from neocloud.economics.pricebook import price_for
from neocloud.placement.snapshot import build_snapshot
from neocloud.sim import demand_model as dm
from neocloud.sim.lease_demand import ORIGIN_S, Pin, refused_price, replay, seeded_book, summarize
from tests.builders import a_block, a_fleet, a_site

DAY_S = 86_400
HOUR_S = 3_600


def toy_fleet() -> Fleet:
    """Two blocks of four 8-GPU H100 nodes: 64 GPUs, 32 per block."""
    return build_fleet(a_fleet(a_site("s1", blocks=(a_block("b1"), a_block("b2")))))


def ask(rid: str, at_s: int, shape: str, days: float, tier: Tier = Tier.RESERVED) -> DemandRequest:
    return DemandRequest(rid, at_s, "acme", parse_shape(shape), shape, round(days * DAY_S), tier)


def test_a_toy_stream_is_booked_and_refused_exactly_as_the_fleet_allows():
    stream = [
        ask("r1", 0, "32@block", 30),
        ask("r2", 0, "32@block", 30),
        ask("r3", HOUR_S, "8", 1, Tier.ON_DEMAND),  # both blocks are taken
        ask("r4", 31 * DAY_S, "block", 30, Tier.WHOLESALE),  # r1 and r2 ended at day 30
        ask("r5", 31 * DAY_S, "16", 1, Tier.ON_DEMAND),  # in the other block
        ask("r6", 31 * DAY_S, "32@block", 1, Tier.ON_DEMAND),  # half of b2 is taken by r5
    ]
    run = replay(toy_fleet(), stream, seeded_book(), horizon_s=40 * DAY_S)
    assert [o.accepted for o in run.outcomes] == [True, True, False, True, True, False]
    assert "do not fit" in run.outcomes[2].reason
    assert [o.gpus for o in run.outcomes if o.accepted] == [32, 32, 32, 16]
    s = summarize(run)
    assert (s.requests, s.accepted) == (6, 4)
    assert {g.key: (g.accepted, g.requests) for g in s.by_tier} == {
        "reserved": (2, 2),
        "on_demand": (1, 3),
        "wholesale": (1, 1),
    }
    assert {g.key: (g.accepted, g.requests) for g in s.by_shape}["32@block"] == (2, 3)


def test_revenue_booked_is_the_price_books_price_times_the_term():
    book = seeded_book()
    stream = [ask("a", 0, "8", 1, Tier.ON_DEMAND), ask("b", 0, "32@block", 30, Tier.RESERVED)]
    run = replay(toy_fleet(), stream, book, horizon_s=DAY_S)
    on_demand = price_for(book, Tier.ON_DEMAND, "H100", 0, DAY_S).rate.amount
    reserved = price_for(book, Tier.RESERVED, "H100", 0, 30 * DAY_S).rate.amount
    assert (on_demand, reserved) == (Decimal("3.99"), Decimal("3.5910"))  # 3.99 less the 30-day 10%
    a, b = run.outcomes
    assert a.revenue == on_demand * 8 * 24 == Decimal("766.08")
    assert b.revenue == reserved * 32 * 30 * 24 == Decimal("82736.64")
    assert summarize(run).revenue_booked == a.revenue + b.revenue


def test_a_refused_requests_revenue_is_what_the_book_would_have_charged():
    book = seeded_book()
    stream = [ask("all", 0, "64", 10), ask("late", HOUR_S, "16", 2, Tier.ON_DEMAND)]
    run = replay(toy_fleet(), stream, book, horizon_s=DAY_S)
    refused = run.outcomes[1]
    assert not refused.accepted
    assert refused.revenue == Decimal("3.99") * 16 * 48
    assert summarize(run).revenue_refused == refused.revenue
    snap_model, gpus, amount = refused_price(book, build_snapshot(toy_fleet()), refused.request, ORIGIN_S)
    assert (snap_model, gpus, amount) == ("H100", 16, refused.revenue)


def test_a_lease_ends_at_its_term_and_its_nodes_take_the_next_request():
    stream = [
        ask("whole", 0, "64", 10),
        ask("early", 10 * DAY_S - 1, "8", 1, Tier.ON_DEMAND),  # one second before the end
        ask("on_time", 10 * DAY_S, "8", 1, Tier.ON_DEMAND),
    ]
    run = replay(toy_fleet(), stream, seeded_book(), horizon_s=20 * DAY_S)
    assert [o.accepted for o in run.outcomes] == [True, False, True]


def test_utilization_and_fragmentation_follow_the_leases_over_time():
    # 64 GPUs for the first 10 of 20 days, then 8 GPUs of block b1 for 1 day
    stream = [ask("whole", 0, "64", 10), ask("one", 10 * DAY_S, "8", 1, Tier.ON_DEMAND)]
    run = replay(toy_fleet(), stream, seeded_book(), horizon_s=20 * DAY_S)
    s = summarize(run)
    assert s.utilization_mean == pytest.approx((64 * 10 + 8 * 1) / (64 * 20))
    one = next(x for x in run.samples if x.t_s == 10 * DAY_S)
    assert (one.leased_gpus, one.free_gpus, one.free_whole_blocks) == (8, 56, 1)
    assert one.stranded_fraction == pytest.approx(24 / 56)  # b1's free GPUs cannot serve a whole block
    assert (s.utilization_end, s.stranded_end) == (0.0, 0.0)


def test_a_model_the_fleet_lacks_is_bad_input_naming_the_request():
    with pytest.raises(RequestError, match=r"request r9: model: no 'B200' GPUs in the fleet"):
        replay(toy_fleet(), [ask("r9", 0, "8xB200", 1)], seeded_book())


def test_the_pinned_contract_lowers_later_acceptance_on_a_small_fleet():
    model = dm.DemandModel(rate_per_day=0.5)
    stream = dm.generate(model, 0.5, 365, seed=3)
    pin = Pin("block", parse_shape("block"), 365 * DAY_S, Tier.WHOLESALE)
    without = summarize(replay(toy_fleet(), stream, seeded_book(), horizon_s=365 * DAY_S))
    pinned = summarize(replay(toy_fleet(), stream, seeded_book(), horizon_s=365 * DAY_S, pin=pin))
    assert pinned.pin is not None
    assert pinned.pin.accepted
    assert pinned.pin.gpus == 32
    assert pinned.requests == without.requests > 100
    assert pinned.acceptance < without.acceptance
    assert pinned.utilization_mean > without.utilization_mean  # the pin holds a block all year


def test_a_replay_asks_the_engine_for_no_alternatives_and_people_still_get_them():
    from neocloud.leasing.engine import Engine
    from neocloud.leasing.quote import Quote, Refusal
    from neocloud.sim.lease_demand import book_pricer

    engine = Engine.of_fleet(toy_fleet())
    book = seeded_book()
    whole = ask("w", 0, "64", 10)
    first = replace_models(whole, ORIGIN_S)
    found = engine.quote(first, ORIGIN_S, book_pricer(book, engine.view))
    assert isinstance(found, Quote)
    engine.apply(engine.book_quote(found, lease_id="L-w", now_s=ORIGIN_S, actor="t")[1])
    again = replace_models(ask("x", 0, "8", 1), ORIGIN_S)
    people = engine.quote(again, ORIGIN_S)
    replayed = engine.quote(again, ORIGIN_S, with_alternatives=False)
    assert isinstance(people, Refusal)
    assert isinstance(replayed, Refusal)
    assert people.alternatives  # a later start: when the 10-day lease ends
    assert replayed.alternatives == ()
    assert replayed.reason == people.reason


def replace_models(d: DemandRequest, now_s: int) -> LeaseRequest:
    return LeaseRequest(d.tenant, Shape(("H100",), gpus=d.shape.gpus), now_s, now_s + d.term_s, None, tier=d.tier)


def test_a_refused_any_model_request_is_priced_at_the_cheapest_model_it_accepts():
    from neocloud.domain.presets import preset

    demo = build_snapshot(build_fleet(preset("demo"), file="demo"))
    book = seeded_book()
    asked = ask("any", 0, "64", 30, Tier.ON_DEMAND)
    model, gpus, amount = refused_price(book, demo, asked, ORIGIN_S)
    assert demo.models == ("GB200", "H100", "H200")  # GB200 is tried first, and costs most
    assert (model, gpus) == ("H100", 64)
    assert amount == Decimal("3.99") * 64 * 30 * 24
