"""Amendments, announced maintenance windows and late health reports through the
leasing service, on every store (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.health import Health, OutOfOrderHealth
from neocloud.domain.leases import AmendmentKind, LeaseRequest, LeaseRuleError
from neocloud.domain.ledger import HolderKind
from neocloud.domain.money import Money
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import RequestError
from neocloud.services.leasing import LeasingService
from neocloud.services.ports import LedgerStore
from tests.builders import a_fleet
from tests.integration.stores import STORE_KINDS, store_factory

START = datetime(2027, 1, 4, tzinfo=UTC)
T0 = to_s(START)
HOUR = 3600
DAY = 86_400
K = AmendmentKind


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest) -> LedgerStore:
    return store_factory(request.param, request)()


def a_service(store: LedgerStore) -> LeasingService:
    """Four 8-GPU H100 nodes in one block, loaded at ``START``; tenant acme."""
    svc = LeasingService(store, ManualClock(START))
    svc.init(build_fleet(a_fleet()), actor="test")
    svc.add_tenant("acme", actor="test")
    return svc


def a_lease(svc: LeasingService, gpus: int = 16, start_s: int = T0 + 60, days: int = 30) -> str:
    shape = Shape(("H100",), gpus=gpus, locality=Locality.BLOCK)
    lease, _ = svc.create(
        LeaseRequest("acme", shape, start_s, start_s + days * DAY, Money(Decimal("2.35"))), actor="op"
    )
    return lease.id


def advance(svc: LeasingService, seconds: int) -> None:
    svc.clock.advance(seconds=seconds)  # type: ignore[attr-defined]
    svc.tick()


def written(svc: LeasingService) -> int:
    return svc.store.delta_since(-1).version


# -- amendments are stored -------------------------------------------------------------
def test_amendments_come_back_from_the_store_in_order(store: LedgerStore) -> None:
    svc = a_service(store)
    lease_id = a_lease(svc)
    booked = svc.show(lease_id).lease.contract
    svc.extend(lease_id, T0 + 60 + 40 * DAY, actor="op")
    svc.announce_maintenance(lease_id, T0 + 10 * DAY, T0 + 10 * DAY + 4 * HOUR, actor="op", reason="firmware")
    advance(svc, 2 * HOUR)
    svc.shrink(lease_id, 8, None, actor="op")
    fresh = LeasingService(store, ManualClock(START))  # reads everything back from the store
    lease = fresh.show(lease_id).lease
    assert [a.kind for a in lease.amendments] == [K.EXTEND, K.MAINTENANCE, K.SHRINK]
    assert lease.amendments[0].before == booked
    assert lease.maintenance_windows == ((T0 + 10 * DAY, T0 + 10 * DAY + 4 * HOUR),)
    assert lease == svc.show(lease_id).lease


# -- announced maintenance windows -----------------------------------------------------
def test_a_window_announced_with_the_notice_is_one_maintenance_amendment(store: LedgerStore) -> None:
    svc = a_service(store)
    lease_id = a_lease(svc)
    before = svc.show(lease_id)
    lease = svc.announce_maintenance(lease_id, T0 + 7 * DAY, T0 + 7 * DAY + HOUR, actor="ops", reason="PDU swap")
    (a,) = lease.amendments
    assert (a.kind, a.at_s, a.effective_s, a.window) == (
        K.MAINTENANCE,
        T0,
        T0 + 7 * DAY,
        (T0 + 7 * DAY, T0 + 7 * DAY + HOUR),
    )
    assert (a.actor, a.reason) == ("ops", "PDU swap")
    assert a.before == a.after == before.lease.contract == lease.contract
    assert svc.show(lease_id).bookings == before.bookings  # nothing is booked or moved


def test_a_window_with_less_than_the_contract_notice_is_refused_with_the_reason_and_writes_nothing(
    store: LedgerStore,
) -> None:
    svc = a_service(store)
    lease_id = a_lease(svc)
    version = written(svc)
    with pytest.raises(LeaseRuleError) as refused:
        svc.announce_maintenance(lease_id, T0 + 2 * DAY, T0 + 2 * DAY + HOUR, actor="ops", reason="PDU swap")
    text = refused.value.render()
    assert "announced 2 days ahead, but its contract requires 7 days of notice" in text
    assert "the earliest start announced now is 2027-01-11 00:00 UTC" in text
    assert written(svc) == version
    assert svc.show(lease_id).lease.amendments == ()


def test_the_notice_is_the_lease_contract_term(store: LedgerStore) -> None:
    svc = a_service(store)
    shape = Shape(("H100",), gpus=8)
    request = LeaseRequest("acme", shape, T0 + 60, T0 + 30 * DAY, Money(Decimal("2.35")), maintenance_notice_s=HOUR)
    lease, _ = svc.create(request, actor="op")
    svc.announce_maintenance(lease.id, T0 + HOUR, T0 + 2 * HOUR, actor="ops", reason="reseat")
    with pytest.raises(LeaseRuleError, match="announced 59 minutes ahead, but its contract requires 1 hour"):
        svc.announce_maintenance(lease.id, T0 + 59 * 60, T0 + 60 * 60, actor="ops", reason="reseat")


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        (8 * DAY, 8 * DAY, "end: the window must end after its start"),
        (29 * DAY, 31 * DAY, "outside the lease's term"),
        (8 * DAY + HOUR, 9 * DAY, "overlaps the window"),
    ],
)
def test_a_window_outside_the_term_overlapping_another_or_empty_is_refused(start: int, end: int, problem: str) -> None:
    from neocloud.adapters.memory import MemoryStore

    svc = a_service(MemoryStore())
    lease_id = a_lease(svc)
    svc.announce_maintenance(lease_id, T0 + 8 * DAY, T0 + 8 * DAY + 2 * HOUR, actor="ops", reason="first")
    with pytest.raises((LeaseRuleError, RequestError), match=problem):
        svc.announce_maintenance(lease_id, T0 + start, T0 + end, actor="ops", reason="second")
    assert len(svc.show(lease_id).lease.amendments) == 1


# -- late health reports ---------------------------------------------------------------
def test_a_late_failure_counts_from_when_it_happened_and_heals_now(store: LedgerStore) -> None:
    svc = a_service(store)
    lease_id = a_lease(svc, gpus=16)
    advance(svc, 3 * HOUR)
    victim = sorted(b.node for b in svc.show(lease_id).bookings)[0]
    change = svc.set_health(victim, Health.FAILED, at_s=T0 + HOUR, actor="ops", reason="xid 79, found late")
    assert change.health[0].at_s == T0 + HOUR
    view = svc.show(lease_id)
    delivered = {p.t_s: p.delivered for p in view.capacity}
    assert delivered[T0 + 60] == 16
    assert delivered[T0 + HOUR] == 8  # short of the failed node from when it failed...
    assert delivered[T0 + 3 * HOUR] == 16  # ...until the swap, which happens now
    (swap,) = view.lease.amendments
    assert (swap.kind, swap.effective_s, swap.nodes[0][0]) == (K.SWAP, T0 + 3 * HOUR, victim)
    moved_in = [b for b in view.bookings if b.node == swap.nodes[0][1] and b.kind is HolderKind.LEASE]
    assert [b.start_s for b in moved_in] == [T0 + 3 * HOUR]


def test_a_late_report_before_a_later_health_record_is_refused_naming_it(store: LedgerStore) -> None:
    svc = a_service(store)
    node = svc.fleet().nodes[0].id
    advance(svc, 3 * HOUR)
    svc.set_health(node, Health.DEGRADED, at_s=T0 + 2 * HOUR, actor="ops", reason="ecc errors")
    version = written(svc)
    with pytest.raises(OutOfOrderHealth, match=r"before its latest health record \(degraded at 2027-01-04T02:00:00Z\)"):
        svc.set_health(node, Health.FAILED, at_s=T0 + HOUR, actor="ops", reason="x")
    assert written(svc) == version
    svc.set_health(node, Health.FAILED, at_s=T0 + 2 * HOUR, actor="ops", reason="same second is fine")
    assert [state for _, _, state in store.health_log([node])] == [Health.DEGRADED, Health.FAILED]


def test_a_report_dated_before_the_fleet_was_loaded_is_refused(store: LedgerStore) -> None:
    svc = a_service(store)
    advance(svc, HOUR)
    version = written(svc)
    with pytest.raises(OutOfOrderHealth, match="before the fleet was loaded"):
        svc.set_health(svc.fleet().nodes[0].id, Health.FAILED, at_s=T0 - 60, actor="ops", reason="x")
    assert written(svc) == version
