"""The demo fleet on an in-memory store, with the dashboard mounted: for the web tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi import FastAPI

from neocloud import bootstrap
from neocloud.api.app import create_app
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.health import Health
from neocloud.domain.leases import LeaseRequest, LeaseState
from neocloud.domain.money import Money
from neocloud.domain.shape import Locality, Shape
from neocloud.services.container import Services
from neocloud.services.demo import DemoKeys, build_demo
from neocloud.services.demo_studies import record_demo_studies

DAY = 86_400
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def demo_services() -> tuple[Services, DemoKeys, ManualClock]:
    """The demo two days on (leases started, a failure healed, one lease degraded; the
    demo's hold has expired, so initech holds a new lease), with the demo's two studies."""
    clock = ManualClock(START)
    services = bootstrap.in_memory(clock)
    keys = build_demo(services)
    clock.advance(days=2)
    services.leasing.tick()
    _fail_a_node_of(services, "frontier-lab")
    now = to_s(clock.now())
    held = LeaseRequest(
        "initech",
        Shape(("H200",), gpus=64, locality=Locality.BLOCK),
        now + 7 * DAY,
        now + 60 * DAY,
        Money(Decimal("2.35")),
    )
    services.leasing.create(held, actor="test", hold=True)
    record_demo_studies(services)  # what serve --demo records: a keep-vs-lease study and a sweep
    return services, keys, clock


def _fail_a_node_of(services: Services, tenant: str) -> None:
    """A healthy node of the tenant's lease fails now, inside the lease: the timeline marks it
    (the demo's own failures happen before its leases start)."""
    leasing = services.leasing
    lease = next(le for le in leasing.leases(tenant=tenant) if le.state is LeaseState.ACTIVE)
    unhealthy = {n.id for n in leasing.fleet().nodes if n.health is not Health.HEALTHY}
    node = sorted(b.node for b in leasing.show(lease.id).bookings if b.node not in unhealthy)[0]
    leasing.set_health(node, Health.FAILED, at_s=None, actor="test", reason="NVLink errors")


def demo_app() -> tuple[FastAPI, Services, DemoKeys]:
    services, keys, _ = demo_services()
    app = create_app(services)  # mounts the dashboard too
    return app, services, keys
