"""The demo fleet on an in-memory store, with the dashboard mounted: for the web tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi import FastAPI

from neocloud import bootstrap
from neocloud.api.app import create_app
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.shape import Locality, Shape
from neocloud.services.container import Services
from neocloud.services.demo import DemoKeys, build_demo

DAY = 86_400
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def demo_services() -> tuple[Services, DemoKeys, ManualClock]:
    """The demo two days on (leases started, a failure healed, one lease degraded; the
    demo's hold has expired, so initech holds a new lease)."""
    clock = ManualClock(START)
    services = bootstrap.in_memory(clock)
    keys = build_demo(services)
    clock.advance(days=2)
    services.leasing.tick()
    now = to_s(clock.now())
    held = LeaseRequest(
        "initech",
        Shape(("H200",), gpus=64, locality=Locality.BLOCK),
        now + 7 * DAY,
        now + 60 * DAY,
        Money(Decimal("2.35")),
    )
    services.leasing.create(held, actor="test", hold=True)
    return services, keys, clock


def demo_app() -> tuple[FastAPI, Services, DemoKeys]:
    services, keys, _ = demo_services()
    app = create_app(services)  # mounts the dashboard too
    return app, services, keys
