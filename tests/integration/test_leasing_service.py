"""Leasing use cases through the store port; the same bodies run on every store."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from neocloud.domain.changes import EventQuery
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.health import Health
from neocloud.domain.leases import LeaseRequest, LeaseState
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape, Unit
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import NotFound, Quote, RequestError, Unplaceable
from neocloud.services.leasing import LeasingService
from neocloud.services.visibility import Viewer
from tests.integration.stores import STORE_KINDS, store_factory

START = datetime(2027, 1, 4, tzinfo=UTC)
DAY = 86_400


@pytest.fixture(params=STORE_KINDS)
def service(request) -> LeasingService:
    clock = ManualClock(START)
    svc = LeasingService(store_factory(request.param, request)(), clock)
    healthy_demo = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}
    svc.init(build_fleet(preset("demo", healthy_demo)), actor="test")
    svc.add_tenant("acme", actor="test")
    svc.add_tenant("globex", actor="test")
    return svc


def h100(gpus: int, tenant: str = "acme", start_days: int = 1, days: int = 30, **shape_kw) -> LeaseRequest:
    t0 = to_s(START) + start_days * DAY
    shape = Shape(("H100",), gpus=gpus, locality=shape_kw.pop("locality", Locality.BLOCK), **shape_kw)
    return LeaseRequest(tenant, shape, t0, t0 + days * DAY, Money(Decimal("2.35")))


def test_a_lease_is_booked_listed_and_shown_with_its_capacity(service: LeasingService):
    lease, quote = service.create(h100(64), actor="op")
    assert lease.state is LeaseState.CONFIRMED
    assert quote.total == Money(Decimal("2.35") * 64 * 30 * 24)
    assert [x.id for x in service.leases(tenant="acme")] == [lease.id]
    view = service.show(lease.id)
    assert len({b.node for b in view.bookings}) == 8


def test_capacity_is_never_booked_twice(service: LeasingService):
    for _ in range(8):
        service.create(h100(64, locality=Locality.ANYWHERE), actor="op")
    with pytest.raises(Unplaceable):
        service.create(h100(64, locality=Locality.ANYWHERE), actor="op")
    nodes = [b.node for lease in service.leases() for b in service.show(lease.id).bookings]
    assert len(nodes) == len(set(nodes))


def test_unknown_tenant_model_and_oversized_requests_are_refused_with_the_field(service: LeasingService):
    with pytest.raises(RequestError, match="tenant: unknown tenant 'nobody'"):
        service.create(h100(8, tenant="nobody"), actor="op")
    bad_model = h100(8)
    bad_model = LeaseRequest(
        "acme", Shape(("H900",), gpus=8), bad_model.start_s, bad_model.end_s, bad_model.price_per_gpu_hour
    )
    with pytest.raises(RequestError, match="model: no 'H900' GPUs"):
        service.create(bad_model, actor="op")
    with pytest.raises(RequestError, match="gpus: 99,992 requested; the fleet has 512"):
        service.create(h100(99_992), actor="op")
    assert service.leases() == []


def test_a_hold_expires_when_the_clock_passes_it(service: LeasingService):
    lease, _ = service.create(h100(64), actor="op", hold=True)
    assert lease.state is LeaseState.HELD
    service.clock.advance(minutes=16)  # type: ignore[attr-defined]
    service.tick()
    assert service.show(lease.id).lease.state is LeaseState.EXPIRED
    assert service.show(lease.id).bookings == []


def test_tenants_cannot_see_each_others_leases(service: LeasingService):
    lease, _ = service.create(h100(8), actor="op")
    with pytest.raises(NotFound):
        service.show(lease.id, viewer=Viewer("globex"))
    with pytest.raises(NotFound):
        service.cancel(lease.id, actor="globex", viewer=Viewer("globex"))
    with pytest.raises(NotFound):
        service.leases(tenant="acme", viewer=Viewer("globex"))
    assert service.leases(viewer=Viewer("globex")) == []


def test_every_change_is_in_the_event_log_with_its_actor(service: LeasingService):
    lease, _ = service.create(h100(8), actor="alice")
    service.cancel(lease.id, actor="bob")
    events = service.events(EventQuery(lease_id=lease.id))
    assert [(e.event.kind, e.event.actor) for e in events] == [("lease.created", "alice"), ("lease.cancelled", "bob")]
    assert events[1].event.before["state"] == "confirmed"
    assert events[1].event.after["state"] == "cancelled"


def test_a_failure_in_an_active_lease_is_healed_and_delivered_capacity_shows_the_gap(service: LeasingService):
    lease, _ = service.create(h100(256, locality=Locality.ANYWHERE, start_days=0), actor="op")
    service.clock.advance(hours=1)  # type: ignore[attr-defined]
    service.tick()
    service.create(h100(256, locality=Locality.ANYWHERE, start_days=1), actor="op")
    victim = sorted(b.node for b in service.show(lease.id).bookings)[0]
    change = service.set_health(victim, Health.FAILED, at_s=None, actor="ops", reason="xid 79")
    assert any("degraded" in n for n in change.notes)
    service.clock.advance(hours=2)  # type: ignore[attr-defined]
    service.set_health(victim, Health.HEALTHY, at_s=None, actor="ops", reason="reseated")
    service.clock.advance(hours=1)  # type: ignore[attr-defined]
    points = service.show(lease.id).capacity
    assert [p.delivered for p in points] == [256, 248, 256]
    assert all(p.contracted == 256 for p in points)


def test_availability_over_a_window(service: LeasingService):
    service.create(h100(64), actor="op")
    t0 = to_s(START)
    [avail] = service.availability(t0, t0 + 365 * DAY, models=("H100",))
    assert avail.total_gpus == 512
    assert avail.free_gpus == avail.healthy_gpus - 64
    assert avail.series[0][0] == t0
    assert avail.largest_free["block"] == 256


def test_a_node_failed_in_a_running_service_is_never_placed_in_a_new_lease(service: LeasingService):
    """Issue 9 §1: the failure reaches the one health array placement is handed."""
    h100_nodes = sorted(n.id for n in service.fleet().nodes if n.gpu_model == "H100")
    failed = set(h100_nodes[:6])
    for node in failed:
        service.set_health(node, Health.FAILED, at_s=None, actor="op", reason="test")
    healthy = len(h100_nodes) - len(failed)
    lease, _ = service.create(h100(healthy * 8, locality=Locality.ANYWHERE), actor="op", hold=True)
    assert not failed & {b.node for b in service.show(lease.id).bookings}
    with pytest.raises(Unplaceable):  # the failed nodes are all that is left
        service.create(h100(8, locality=Locality.ANYWHERE), actor="op")


def test_a_quote_after_a_hold_expired_sees_the_freed_capacity_without_a_write(service: LeasingService):
    """Issue 9 §2: reads apply the clock (tentatively: nothing is written)."""
    everything = h100(512, locality=Locality.ANYWHERE)
    held, _ = service.create(everything, actor="op", hold=True)
    assert not isinstance(service.quote(everything), Quote)
    version = service.store.delta_since(-1).version
    service.clock.advance(minutes=16)  # type: ignore[attr-defined]
    assert isinstance(service.quote(everything), Quote)
    assert [lease.state for lease in service.leases()] == [LeaseState.EXPIRED]
    assert service.show(held.id).lease.state is LeaseState.EXPIRED
    h100_free = next(a for a in service.availability(everything.start_s, everything.end_s) if a.model == "H100")
    assert h100_free.free_gpus == 512
    assert service.store.delta_since(-1).version == version  # the reads wrote nothing


def test_a_lease_that_has_not_started_shrinks_from_its_start_by_default(service: LeasingService):
    """Issue 9 §7: one rule for the CLI and the API, in the engine."""
    lease, _ = service.create(h100(64, start_days=5), actor="op")
    shrunk = service.shrink(lease.id, 32, None, actor="op")
    assert [(s.start_s, s.gpus) for s in shrunk.contract] == [(lease.start_s, 32)]


def test_a_whole_site_lease_books_its_failed_nodes_as_degraded(service: LeasingService):
    """Issue 9 §7: a whole unit is contracted as it is; what is down at booking is a deficit."""
    node = next(n.id for n in service.fleet().nodes if n.site == "demo-east")
    service.set_health(node, Health.FAILED, at_s=None, actor="op", reason="test")
    t0 = to_s(START) + DAY
    whole = LeaseRequest("acme", Shape(("*",), unit=Unit.SITE, site="demo-east"), t0, t0 + 30 * DAY, Money(Decimal(2)))
    lease, _ = service.create(whole, actor="op")
    assert lease.degraded_nodes == (node,)


def test_a_refused_write_after_the_clock_moved_keeps_the_cached_view(service: LeasingService):
    """The clock's due change is taken back with the refused transaction, not by dropping
    the whole view (which would cost a reload of all history)."""
    held, _ = service.create(h100(64), actor="op", hold=True)
    node = service.show(held.id).bookings[0].node
    engine = service._engine
    service.clock.advance(minutes=16)  # type: ignore[attr-defined]
    with pytest.raises(RequestError):
        service.create(h100(8, tenant="nobody"), actor="op")
    assert service._engine is engine
    assert service.show(held.id).lease.state is LeaseState.EXPIRED  # still, as of now
    assert [b.holder for b in service.node_bookings(node)] == []  # as of now, too
    service.tick()
    assert service.store.delta_since(-1).leases[0].state is LeaseState.EXPIRED
