"""The leasing engine: lifecycle, extend/shrink/terminate, healing and maintenance."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal

import pytest

from neocloud.domain.changes import Change
from neocloud.domain.health import Health
from neocloud.domain.leases import HeldByOthers, LeaseRequest, LeaseRuleError, LeaseState, SparePolicy, Step
from neocloud.domain.ledger import BookingConflict, Draft, HolderKind
from neocloud.domain.money import Money
from neocloud.domain.shape import Locality, Shape, Unit
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import Engine, Refusal, RequestError, Unplaceable
from tests.builders import a_block, a_fleet, a_group, a_site

DAY = 86_400
T0 = 1_800_000_000


def an_engine() -> Engine:
    """Two blocks of 8 H100 nodes (64 GPUs each) and one block of 2 GB200 racks."""
    h100 = a_group(count=8, nodes_per_rack=8, rack_power_kw=85.0)
    gb200 = a_group(count=36, gpu_model="GB200", nodes_per_rack=18, rack_power_kw=120.0)
    blocks = (
        a_block("b1", node_groups=(h100,)),
        a_block("b2", node_groups=(h100,)),
        a_block("g1", node_groups=(gb200,)),
    )
    return Engine.of_fleet(build_fleet(a_fleet(a_site(blocks=blocks, power_mw=2.0))))


def a_request(gpus: int = 32, start: int = T0 + DAY, days: int = 30, **kw) -> LeaseRequest:
    shape = kw.pop("shape", Shape(("H100",), gpus=gpus, locality=Locality.BLOCK))
    return LeaseRequest("acme", shape, start, start + days * DAY, Money(Decimal("2.35")), **kw)


def book(engine: Engine, request: LeaseRequest, lease_id: str, hold_s: int | None = None, now: int = T0):
    lease, change = engine.create(request, lease_id=lease_id, now_s=now, actor="op", hold_s=hold_s)
    engine.apply(change)
    return lease


def nodes_of(engine: Engine, lease_id: str, kind: HolderKind = HolderKind.LEASE) -> set[str]:
    return {b.node for b in engine.lease_nodes(lease_id) if b.kind is kind}


def test_a_confirmed_lease_books_whole_nodes_in_one_block():
    engine = an_engine()
    lease = book(engine, a_request(32), "L1")
    assert lease.state is LeaseState.CONFIRMED
    held = nodes_of(engine, "L1")
    assert len(held) == 4
    assert len({n.split("-")[0] for n in held}) == 1
    assert lease.contract[0].gpus == 32


def test_a_request_that_does_not_fit_gets_the_reason_and_alternatives():
    engine = an_engine()
    book(engine, a_request(64), "L1")
    book(engine, a_request(64), "L2")
    quote = engine.quote(a_request(64), T0)
    assert isinstance(quote, Refusal)
    kinds = {a.kind for a in quote.alternatives}
    assert "later_start" in kinds
    with pytest.raises(Unplaceable, match="do not fit in one block"):
        engine.create(a_request(64), lease_id="L3", now_s=T0, actor="op")


def test_looser_locality_and_fewer_gpus_are_offered():
    engine = an_engine()
    book(engine, a_request(32), "L1")
    quote = engine.quote(a_request(96), T0)
    assert isinstance(quote, Refusal)
    offered = {a.kind: a for a in quote.alternatives}
    assert offered["fewer_gpus"].gpus == 64
    assert offered["looser_locality"].locality is Locality.POD


def test_bad_requests_name_each_field():
    engine = an_engine()
    with pytest.raises(RequestError) as info:
        engine.quote(a_request(32, start=T0 - 10, days=0), T0)
    assert "start: must be before end" in info.value.problems
    assert "start: is in the past" in info.value.problems


def test_a_hold_expires_on_the_clock_and_frees_its_nodes():
    engine = an_engine()
    book(engine, a_request(64), "L1", hold_s=900)
    engine.apply(engine.tick(T0 + 899))
    assert engine.lease("L1").state is LeaseState.HELD
    engine.apply(engine.tick(T0 + 900))
    assert engine.lease("L1").state is LeaseState.EXPIRED
    assert engine.lease_nodes("L1") == []
    with pytest.raises(LeaseRuleError):
        engine.confirm("L1", now_s=T0 + 901, actor="op")


def test_confirming_after_the_hold_ran_out_is_refused_even_before_the_tick():
    engine = an_engine()
    book(engine, a_request(32), "L1", hold_s=60)
    with pytest.raises(LeaseRuleError, match="hold expired"):
        engine.confirm("L1", now_s=T0 + 61, actor="op")


def test_the_clock_activates_and_ends_leases():
    engine = an_engine()
    book(engine, a_request(32, days=1), "L1")
    engine.apply(engine.tick(T0 + DAY))
    assert engine.lease("L1").state is LeaseState.ACTIVE
    engine.apply(engine.tick(T0 + 2 * DAY))
    assert engine.lease("L1").state is LeaseState.ENDED


def test_extend_fails_when_a_later_lease_holds_the_node_and_offers_a_swap():
    engine = an_engine()
    book(engine, a_request(32, days=10), "L1")
    start_later = T0 + 11 * DAY
    later = a_request(32, start=start_later, days=10, shape=Shape(("H100",), gpus=64, locality=Locality.BLOCK))
    book(engine, later, "L2")  # takes a whole block after L1 ends: one of the two blocks
    with pytest.raises(LeaseRuleError, match=r"Ask again allowing the swap|no free healthy node"):
        engine.extend("L1", start_later + DAY, now_s=T0, actor="op")


def test_a_blocked_extend_is_refused_with_how_many_nodes_from_when_and_who_holds_them():
    engine = an_engine()
    book(engine, a_request(32, days=10), "L1")
    end = engine.lease("L1").end_s
    blockers = sorted(nodes_of(engine, "L1"))[:2]
    for k, node in enumerate(blockers):
        window = engine.maintenance(node, start_s=end, end_s=end + DAY, now_s=T0, actor="op", window_id=f"mw{k}")
        engine.apply(window)
    with pytest.raises(HeldByOthers) as refused:
        engine.extend("L1", end + 5 * DAY, now_s=T0, actor="op")
    told = refused.value
    assert (told.lease_id, told.blocked, told.from_s, told.end_s) == ("L1", 2, end, end + 5 * DAY)
    assert told.holders == ("maintenance mw0", "maintenance mw1")
    assert [a for a, _ in told.swaps] == blockers
    assert str(told).startswith(
        "extend L1 to 2027-01-31 08:00 UTC: 2 of the lease's nodes are booked after 2027-01-26 08:00 UTC "
        "(held by maintenance mw0, maintenance mw1); free nodes in the same blocks could take over"
    )


def test_extend_with_swap_moves_the_blocked_nodes_within_their_block():
    engine = an_engine()
    book(engine, a_request(32, days=10), "L1")
    first = nodes_of(engine, "L1")
    end = engine.lease("L1").end_s
    blocker = next(iter(first))
    engine.apply(engine.maintenance(blocker, start_s=end, end_s=end + DAY, now_s=T0, actor="op", window_id="mw1"))
    with pytest.raises(LeaseRuleError, match="Ask again allowing the swap"):
        engine.extend("L1", end + 5 * DAY, now_s=T0, actor="op")
    change = engine.extend("L1", end + 5 * DAY, now_s=T0, actor="op", allow_swap=True)
    engine.apply(change)
    assert engine.lease("L1").end_s == end + 5 * DAY
    tail = {b.node for b in engine.lease_nodes("L1") if b.end_s == end + 5 * DAY}
    assert blocker not in tail
    assert len(tail) == 4
    assert any("swapped" in n for n in change.notes)


def test_shrink_releases_whole_nodes_from_the_given_time():
    engine = an_engine()
    book(engine, a_request(32), "L1")
    engine.apply(engine.shrink("L1", 16, from_s=T0 + 5 * DAY, now_s=T0, actor="op"))
    lease = engine.lease("L1")
    assert lease.contracted_at(T0 + 5 * DAY) == 16
    assert lease.contracted_at(T0 + 2 * DAY) == 32
    live = [b for b in engine.lease_nodes("L1") if b.end_s > T0 + 5 * DAY]
    assert len(live) == 2
    with pytest.raises(LeaseRuleError, match="whole 8-GPU nodes"):
        engine.shrink("L1", 12, from_s=T0 + 6 * DAY, now_s=T0, actor="op")


def test_terminate_cuts_every_booking_at_the_given_time():
    engine = an_engine()
    book(engine, a_request(32, start=T0 + 10), "L1")
    engine.apply(engine.tick(T0 + 10))
    engine.apply(engine.terminate("L1", at_s=T0 + DAY, now_s=T0 + 100, actor="op"))
    lease = engine.lease("L1")
    assert lease.state is LeaseState.TERMINATED
    assert lease.end_s == T0 + DAY
    assert all(b.end_s == T0 + DAY for b in engine.lease_nodes("L1"))
    with pytest.raises(LeaseRuleError):
        engine.terminate("L1", at_s=T0 + DAY, now_s=T0 + 100, actor="op")


def test_a_failed_node_is_swapped_for_the_lease_spare():
    engine = an_engine()
    book(engine, a_request(32, start=T0 + 10, spares=SparePolicy("block", 1)), "L1")
    spare = nodes_of(engine, "L1", HolderKind.SPARE)
    assert len(spare) == 1
    victim = sorted(nodes_of(engine, "L1"))[0]
    change = engine.set_health(victim, Health.FAILED, at_s=T0 + DAY, now_s=T0 + DAY, actor="ops", reason="xid 79")
    engine.apply(change)
    held_after = {b.node for b in engine.lease_nodes("L1") if b.kind is HolderKind.LEASE and b.end_s > T0 + DAY}
    assert spare <= held_after
    assert victim not in held_after


def test_a_failed_node_without_spare_takes_a_free_node_of_its_block():
    engine = an_engine()
    book(engine, a_request(32, start=T0 + 10), "L1")
    victim = sorted(nodes_of(engine, "L1"))[0]
    engine.apply(engine.set_health(victim, Health.FAILED, at_s=T0 + DAY, now_s=T0 + DAY, actor="ops", reason="x"))
    after = {b.node for b in engine.lease_nodes("L1") if b.end_s > T0 + DAY}
    assert victim not in after
    assert len(after) == 4
    assert {n.split("-")[0] for n in after} == {victim.split("-")[0]}


def test_a_lease_is_marked_degraded_when_no_replacement_exists_and_restored_on_repair():
    engine = an_engine()
    book(engine, a_request(64, start=T0 + 10), "L1")
    book(engine, a_request(64, start=T0 + 10), "L2")
    victim = sorted(nodes_of(engine, "L1"))[0]
    engine.apply(engine.set_health(victim, Health.FAILED, at_s=T0 + DAY, now_s=T0 + DAY, actor="ops", reason="x"))
    assert engine.lease("L1").degraded_nodes == (victim,)
    engine.apply(
        engine.set_health(victim, Health.HEALTHY, at_s=T0 + 2 * DAY, now_s=T0 + 2 * DAY, actor="ops", reason="ok")
    )
    assert not engine.lease("L1").degraded


def test_illegal_health_transitions_are_refused():
    engine = an_engine()
    node = engine.snap.node_ids[0]
    engine.apply(engine.set_health(node, Health.FAILED, at_s=T0, now_s=T0, actor="ops", reason="x"))
    with pytest.raises(LeaseRuleError, match="cannot go from failed to degraded"):
        engine.set_health(node, Health.DEGRADED, at_s=T0, now_s=T0, actor="ops", reason="x")


def test_maintenance_on_a_leased_node_is_refused_without_a_free_swap():
    engine = an_engine()
    book(engine, a_request(64), "L1")
    book(engine, a_request(64), "L2")
    node = sorted(nodes_of(engine, "L1"))[0]
    with pytest.raises(LeaseRuleError, match="no free healthy node"):
        engine.maintenance(node, start_s=T0 + 2 * DAY, end_s=T0 + 3 * DAY, now_s=T0, actor="op", window_id="mw")


def test_maintenance_on_a_leased_node_swaps_when_it_can():
    engine = an_engine()
    book(engine, a_request(32), "L1")
    node = sorted(nodes_of(engine, "L1"))[0]
    engine.apply(
        engine.maintenance(node, start_s=T0 + 2 * DAY, end_s=T0 + 3 * DAY, now_s=T0, actor="op", window_id="mw")
    )
    assert [b.kind for b in engine.view.ledger.overlapping(node, T0 + 2 * DAY, T0 + 3 * DAY)] == [
        HolderKind.MAINTENANCE
    ]
    assert len({b.node for b in engine.lease_nodes("L1") if b.end_s > T0 + 3 * DAY}) == 4


def test_steps_book_more_nodes_from_the_step_time_in_the_same_unit():
    engine = an_engine()
    request = a_request(16, steps=(Step(T0 + 10 * DAY, 48),))
    book(engine, request, "L1")
    lease = engine.lease("L1")
    assert lease.contracted_at(T0 + 2 * DAY) == 16
    assert lease.contracted_at(T0 + 11 * DAY) == 48
    late = [b for b in engine.lease_nodes("L1") if b.start_s == T0 + 10 * DAY]
    assert len(late) == 4


def test_whole_nvl72_racks_and_a_whole_site():
    engine = an_engine()
    racks = a_request(shape=Shape(("GB200",), unit=Unit.NVLINK_DOMAIN, units=2, locality=Locality.BLOCK))
    book(engine, racks, "R1")
    assert len(nodes_of(engine, "R1")) == 36
    site = a_request(start=T0 + 40 * DAY, shape=Shape(("H100", "GB200"), unit=Unit.SITE, site="s1"))
    lease = book(engine, site, "S1")
    assert lease.gpus == 64 + 64 + 144


def test_a_failed_node_held_twice_by_one_lease_uses_its_spare_once():
    """Review finding: the same spare was cut twice (the second cut lengthened it) and
    the failure could not be recorded at all."""
    from neocloud.domain.changes import Change
    from neocloud.domain.ledger import Draft

    engine = an_engine()
    book(engine, a_request(32, start=T0 + 10, spares=SparePolicy("block", 1)), "L1")
    first = sorted(nodes_of(engine, "L1"), key=lambda n: engine.view.ledger.node_index[n])[0]
    engine.apply(engine.maintenance(first, start_s=T0 + DAY, end_s=T0 + 2 * DAY, now_s=T0, actor="op", window_id="m1"))
    moved = next(b.node for b in engine.lease_nodes("L1") if b.start_s == T0 + DAY)
    busy = {b.node for b in engine.view.ledger.bookings() if b.start_s < T0 + 40 * DAY and b.end_s > T0 + 3 * DAY}
    block = first.split("-")[0]
    fill = [n for n in engine.snap.node_ids if n.startswith(block) and n not in busy and n != first]
    engine.apply(Change(book=tuple(Draft(n, T0 + 3 * DAY, T0 + 40 * DAY, HolderKind.POOL, "fill") for n in fill)))
    engine.apply(
        engine.maintenance(moved, start_s=T0 + 3 * DAY, end_s=T0 + 4 * DAY, now_s=T0, actor="op", window_id="m2")
    )
    assert len([b for b in engine.lease_nodes("L1") if b.node == first]) == 2  # the lease holds `first` twice
    change = engine.set_health(first, Health.FAILED, at_s=T0 + 100, now_s=T0 + 100, actor="op", reason="x")
    spare_cuts = [cut for cut in change.truncate if engine.view.ledger.get(cut[0]).kind is HolderKind.SPARE]
    assert len(spare_cuts) == 1
    engine.apply(change)  # used to raise: "truncate cannot extend booking"
    spans: dict[str, list[tuple[int, int]]] = {}
    for b in engine.view.ledger.bookings():
        spans.setdefault(b.node, []).append((b.start_s, b.end_s))
    for intervals in spans.values():
        intervals.sort()
        assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(intervals))


def test_no_later_start_is_offered_past_the_booking_horizon():
    """A later start that a retry would refuse (more than 10 years ahead) is no alternative."""
    engine = an_engine()
    book(engine, a_request(64, days=3_640), "L1")
    book(engine, a_request(64, days=3_640), "L2")
    refused = engine.quote(a_request(64, days=30), T0)
    assert isinstance(refused, Refusal)
    assert "later_start" not in {a.kind for a in refused.alternatives}


def test_a_refused_what_if_leaves_the_view_exactly_as_it_was():
    """simulate() of a change that clashes raises and takes back what it had begun."""
    engine = an_engine()
    book(engine, a_request(32), "L1")
    book(engine, a_request(32, start=T0 + 40 * DAY), "L2")
    before = engine.view.ledger.bookings()
    first, second = before[0], next(b for b in before if b.holder == "L2")
    clash = Change(release=(first.id,), book=(Draft(second.node, second.start_s, second.end_s, HolderKind.POOL, "p"),))
    with pytest.raises(BookingConflict):
        engine.simulate(clash)
    assert engine.view.ledger.bookings() == before


def test_a_what_if_taken_back_leaves_booking_ids_as_they_would_have_been():
    engine, twin = an_engine(), an_engine()
    for e in (engine, twin):
        book(e, a_request(32), "L1")
    _, tentative = engine.create(a_request(32, start=T0 + 40 * DAY), lease_id="W", now_s=T0, actor="op")
    engine.simulate(tentative)()
    book(engine, a_request(8, start=T0 + 50 * DAY), "L2")
    book(twin, a_request(8, start=T0 + 50 * DAY), "L2")
    assert engine.view.ledger.bookings() == twin.view.ledger.bookings()


def test_a_lease_history_names_no_epoch_seconds():
    engine = an_engine()
    book(engine, a_request(32), "L1")
    engine.apply(engine.tick(T0 + 2 * DAY))
    engine.apply(engine.terminate("L1", at_s=T0 + 3 * DAY, now_s=T0 + 2 * DAY, actor="op"))
    reasons = [h.reason for h in engine.lease("L1").history]
    assert not any(re.search(r"\b1\d{9}\b", r) for r in reasons), reasons
