"""Typed amendments on a lease: each operation records one, and replaying them over the
booked contract gives the current one (domain/leases.py ``replay_contract``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.api.schemas_amendments import AmendmentOut
from neocloud.cli.views import amendment_json
from neocloud.domain.changes import Change
from neocloud.domain.errors import DomainError
from neocloud.domain.health import Health
from neocloud.domain.leases import (
    Amendment,
    AmendmentError,
    AmendmentKind,
    Segment,
    SparePolicy,
    Step,
    replay_contract,
    validate_request,
)
from neocloud.domain.ledger import Draft, HolderKind
from neocloud.leasing.engine import Engine
from tests.unit.test_engine import DAY, T0, a_request, an_engine, book, nodes_of

K = AmendmentKind
HOUR = 3600
BOOKED = (Segment(0, 100, 16), Segment(100, 200, 32))


def an_amendment(kind: AmendmentKind, effective_s: int, before, after, **kw) -> Amendment:
    return Amendment(kind, 0, effective_s, "ops", "test", tuple(before), tuple(after), **kw)


def test_replaying_extend_shrink_and_terminate_over_the_booked_contract_gives_the_last_one():
    extended = (Segment(0, 100, 16), Segment(100, 300, 32))
    shrunk = (Segment(0, 100, 16), Segment(100, 150, 32), Segment(150, 300, 8))
    ended = (Segment(0, 100, 16), Segment(100, 150, 32), Segment(150, 250, 8))
    chain = (
        an_amendment(K.EXTEND, 200, BOOKED, extended),
        an_amendment(K.SWAP, 120, extended, extended, nodes=(("n1", "n2"),)),
        an_amendment(K.SHRINK, 150, extended, shrunk),
        an_amendment(K.MAINTENANCE, 160, shrunk, shrunk, window=(160, 170)),
        an_amendment(K.TERMINATE, 250, shrunk, ended),
    )
    assert replay_contract(BOOKED, chain) == ended
    assert replay_contract(BOOKED, ()) == BOOKED


def test_an_amendment_that_does_not_start_from_the_previous_contract_is_named_by_index():
    extended = (Segment(0, 100, 16), Segment(100, 300, 32))
    chain = (an_amendment(K.EXTEND, 200, BOOKED, extended), an_amendment(K.SWAP, 10, BOOKED, BOOKED))
    with pytest.raises(AmendmentError, match=r"amendments\[1\] \(swap\): its contract before"):
        replay_contract(BOOKED, chain)


@pytest.mark.parametrize(
    ("amendment", "problem"),
    [
        (an_amendment(K.EXTEND, 200, BOOKED, (Segment(0, 100, 16), Segment(100, 150, 32))), "end later"),
        (an_amendment(K.EXTEND, 150, BOOKED, (Segment(0, 100, 16), Segment(100, 300, 32))), "old end"),
        (an_amendment(K.SHRINK, 150, BOOKED, (Segment(0, 100, 16), Segment(100, 150, 32))), "fewer GPUs"),
        (
            an_amendment(K.SHRINK, 150, BOOKED, (Segment(0, 100, 16), Segment(100, 150, 32), Segment(150, 200, 40))),
            "fewer GPUs",
        ),
        (an_amendment(K.TERMINATE, 150, BOOKED, (Segment(0, 100, 16),)), "clips the contract"),
        (an_amendment(K.TERMINATE, 200, BOOKED, BOOKED), "clips the contract"),
        (an_amendment(K.SWAP, 150, BOOKED, (Segment(0, 100, 16),)), "as it was"),
        (an_amendment(K.MAINTENANCE, 150, BOOKED, BOOKED, window=(160, 170)), "from its start"),
        (an_amendment(K.MAINTENANCE, 150, BOOKED, BOOKED, window=(150, 150)), "start before its end"),
    ],
)
def test_an_amendment_that_its_kind_does_not_allow_is_refused(amendment: Amendment, problem: str):
    with pytest.raises(AmendmentError, match=problem):
        replay_contract(BOOKED, (amendment,))


# -- each operation records exactly one amendment, through the real leasing functions --
def only_new(engine: Engine, lease_id: str, before: int) -> tuple[Amendment, ...]:
    return engine.lease(lease_id).amendments[before:]


def test_a_booking_with_steps_has_no_amendment_its_steps_are_the_booked_contract():
    engine = an_engine()
    lease = book(engine, a_request(16, steps=(Step(T0 + 10 * DAY, 48),)), "L1")
    assert lease.amendments == ()
    assert lease.booked_contract == lease.contract
    assert [s.gpus for s in lease.contract] == [16, 48]


def test_extend_records_one_extend_amendment_from_the_old_end():
    engine = an_engine()
    booked = book(engine, a_request(32, days=10), "L1").contract
    end = booked[-1].end_s
    engine.apply(engine.extend("L1", end + 5 * DAY, now_s=T0, actor="op"))
    (a,) = only_new(engine, "L1", 0)
    assert (a.kind, a.at_s, a.effective_s, a.actor, a.nodes) == (K.EXTEND, T0, end, "op", ())
    assert a.before == booked
    assert a.after == engine.lease("L1").contract == (Segment(booked[0].start_s, end + 5 * DAY, 32),)


def test_extend_onto_swapped_nodes_names_them_in_its_one_amendment():
    engine = an_engine()
    book(engine, a_request(32, days=10), "L1")
    end = engine.lease("L1").end_s
    first = nodes_of(engine, "L1")
    blocker = sorted(first)[0]
    engine.apply(engine.maintenance(blocker, start_s=end, end_s=end + DAY, now_s=T0, actor="op", window_id="mw1"))
    engine.apply(engine.extend("L1", end + 5 * DAY, now_s=T0, actor="op", allow_swap=True))
    (a,) = engine.lease("L1").amendments
    (new,) = {b.node for b in engine.lease_nodes("L1") if b.start_s == end} - first
    assert a.kind is K.EXTEND
    assert a.nodes == ((blocker, new),)


def test_shrink_records_one_shrink_amendment_naming_the_released_nodes():
    engine = an_engine()
    booked = book(engine, a_request(32), "L1").contract
    engine.apply(engine.shrink("L1", 16, from_s=T0 + 5 * DAY, now_s=T0, actor="op"))
    (a,) = engine.lease("L1").amendments
    assert (a.kind, a.effective_s) == (K.SHRINK, T0 + 5 * DAY)
    assert a.before == booked
    assert a.after == engine.lease("L1").contract
    assert [s.gpus for s in a.after] == [32, 16]
    cut = {b.node for b in engine.lease_nodes("L1") if b.end_s == T0 + 5 * DAY}
    assert a.nodes == tuple((n, None) for n in sorted(cut))
    assert len(cut) == 2


def test_terminate_records_one_terminate_amendment_at_the_effective_time():
    engine = an_engine()
    booked = book(engine, a_request(32, start=T0 + 10), "L1").contract
    engine.apply(engine.tick(T0 + 10))
    engine.apply(engine.terminate("L1", at_s=T0 + DAY, now_s=T0 + 100, actor="op"))
    (a,) = engine.lease("L1").amendments
    assert (a.kind, a.at_s, a.effective_s) == (K.TERMINATE, T0 + 100, T0 + DAY)
    assert (a.before, a.after) == (booked, (Segment(T0 + 10, T0 + DAY, 32),))


def test_a_failed_node_swapped_for_the_spare_records_one_swap_amendment():
    engine = an_engine()
    book(engine, a_request(32, start=T0 + 10, spares=SparePolicy("block", 1)), "L1")
    (spare,) = nodes_of(engine, "L1", HolderKind.SPARE)
    victim = sorted(nodes_of(engine, "L1"))[0]
    engine.apply(engine.set_health(victim, Health.FAILED, at_s=T0 + DAY, now_s=T0 + DAY, actor="ops", reason="x"))
    (a,) = engine.lease("L1").amendments
    assert (a.kind, a.effective_s, a.actor, a.reason) == (K.SWAP, T0 + DAY, "ops", "node failed (spare)")
    assert a.nodes == ((victim, spare),)
    assert a.before == a.after == engine.lease("L1").contract


def test_a_node_moved_off_for_maintenance_records_one_swap_amendment():
    engine = an_engine()
    book(engine, a_request(32), "L1")
    node = sorted(nodes_of(engine, "L1"))[0]
    engine.apply(
        engine.maintenance(node, start_s=T0 + 2 * DAY, end_s=T0 + 3 * DAY, now_s=T0, actor="op", window_id="mw")
    )
    (a,) = engine.lease("L1").amendments
    new = next(b.node for b in engine.lease_nodes("L1") if b.start_s == T0 + 2 * DAY)
    assert (a.kind, a.effective_s, a.reason, a.nodes) == (K.SWAP, T0 + 2 * DAY, "maintenance", ((node, new),))


def test_a_node_without_replacement_degrades_the_lease_and_records_no_amendment():
    engine = an_engine()
    book(engine, a_request(64, start=T0 + 10), "L1")
    book(engine, a_request(64, start=T0 + 10), "L2")
    victim = sorted(nodes_of(engine, "L1"))[0]
    engine.apply(engine.set_health(victim, Health.FAILED, at_s=T0 + DAY, now_s=T0 + DAY, actor="ops", reason="x"))
    assert engine.lease("L1").degraded_nodes == (victim,)
    assert engine.lease("L1").amendments == ()


def test_a_heal_that_swaps_and_degrades_one_lease_writes_one_record_with_both():
    """A lease holding the failed node twice (before and after a maintenance move, its
    block otherwise full) is healed twice in one decision: one booking takes the spare,
    the other has no replacement. Its one written record keeps the swap and the mark."""
    engine = an_engine()
    booked = book(engine, a_request(32, start=T0 + 10, spares=SparePolicy("block", 1)), "L1").contract
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
    assert [b.node for b in engine.lease_nodes("L1")].count(first) == 2
    before = len(engine.lease("L1").amendments)
    change = engine.set_health(first, Health.FAILED, at_s=T0 + 100, now_s=T0 + 100, actor="op", reason="x")
    assert [lease.id for lease in change.leases] == ["L1"]  # written once
    engine.apply(change)
    new = only_new(engine, "L1", before)
    assert [(a.kind, a.nodes[0][0]) for a in new] == [(K.SWAP, first)]
    assert engine.lease("L1").degraded_nodes == (first,)
    assert replay_contract(booked, engine.lease("L1").amendments) == engine.lease("L1").contract


# -- the replay property --------------------------------------------------------------
OPS = st.lists(
    st.tuples(st.sampled_from(["extend", "shrink", "terminate", "tick"]), st.integers(1, 20), st.integers(1, 3)),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(ops=OPS, gpus=st.sampled_from([32, 48, 64]), steps=st.booleans())
def test_replaying_the_amendments_over_the_booked_contract_gives_the_current_contract(ops, gpus, steps):
    """Random extend / shrink / terminate through the engine (refusals allowed): each
    accepted one adds exactly one amendment of its kind, and the replay of all of them
    over the contract the lease was booked with is the lease's contract."""
    engine = an_engine()
    request = a_request(gpus, start=T0 + DAY, days=30, steps=(Step(T0 + 10 * DAY, 16),) if steps else ())
    booked = book(engine, request, "L1").contract
    now = T0
    for op, days, k in ops:
        lease = engine.lease("L1")
        try:
            change = _operate(engine, lease, op, now, days, k)
        except DomainError:
            continue
        if op == "tick":
            now += days * DAY
            engine.apply(engine.tick(now))
            continue
        before = len(lease.amendments)
        engine.apply(change)
        after = engine.lease("L1")
        assert [a.kind.value for a in after.amendments[before:]] == [op]
        assert after.amendments[-1].before == lease.contract
    final = engine.lease("L1")
    assert replay_contract(booked, final.amendments) == final.contract


def _operate(engine: Engine, lease, op: str, now: int, days: int, k: int) -> Change:
    if op == "extend":
        return engine.extend("L1", lease.end_s + days * DAY, now_s=now, actor="op", allow_swap=k > 1)
    if op == "shrink":
        held = lease.contracted_at(max(now, lease.start_s) + days * HOUR)
        return engine.shrink("L1", held - 8 * k, from_s=max(now, lease.start_s) + days * HOUR, now_s=now, actor="op")
    if op == "terminate":
        return engine.terminate("L1", at_s=now + days * HOUR, now_s=now, actor="op")
    return Change()


# -- the CLI's --json and the API write an amendment alike ---------------------------
instants = st.integers(0, 2**33)
segments = st.lists(st.builds(Segment, instants, instants, st.integers(0, 10**6)), max_size=3).map(tuple)


@settings(max_examples=100, deadline=None)
@given(
    st.builds(
        Amendment,
        kind=st.sampled_from(AmendmentKind),
        at_s=instants,
        effective_s=instants,
        actor=st.text(max_size=8),
        reason=st.text(max_size=8),
        before=segments,
        after=segments,
        nodes=st.lists(st.tuples(st.text(max_size=5), st.none() | st.text(max_size=5)), max_size=2).map(tuple),
        window=st.none() | st.tuples(instants, instants),
    )
)
def test_the_cli_json_of_an_amendment_is_the_api_body(a: Amendment):
    assert amendment_json(a) == AmendmentOut.of(a).model_dump(mode="json")


@pytest.mark.parametrize(("notice_s", "ok"), [(0, True), (365 * DAY, True), (-1, False), (365 * DAY + 1, False)])
def test_a_requests_maintenance_notice_is_zero_to_a_year(notice_s: int, ok: bool):
    problems = validate_request(a_request(maintenance_notice_s=notice_s), T0)
    assert problems == ([] if ok else ["maintenance_notice: must be 0 to 365 days"])
