"""Two tenants holding interleaved capacity, as the isolation tests need it.

``aurora-labs`` (A) and ``borealis-ai`` (B) take turns on the same nodes of block
``s1-b1``: A's leases first, then B's on the nodes A just left, each with a spare.
Node failures are healed by swaps between them (a node A held fails and B's later
booking of it moves to a spare A held before), a maintenance window moves one of B's
bookings, and a failure in site ``s3`` leaves B's lease there degraded on a node A held
earlier. A also has leases of its own on site ``s2``, which B never touches, for the
calls that book. Every time of B's bookings has odd minutes (03:17, 05:29, ...), so
that a time of B's holdings printed anywhere can be told from A's.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient

from neocloud import bootstrap
from neocloud.api.app import create_app
from neocloud.domain.access import Role
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseRequest, SparePolicy
from neocloud.domain.ledger import Booking
from neocloud.domain.money import Money
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.services.container import Services
from tests.builders import a_block, a_fleet, a_group, a_site
from tests.serving_fakes import FakeModels

A = "aurora-labs"
B = "borealis-ai"
T0 = datetime(2027, 1, 4, tzinfo=UTC)
H, D, M = 3600, 86_400, 60


@dataclass
class TwoTenants:
    app: FastAPI
    services: Services
    clock: ManualClock
    token: dict[str, str]  # tenant name (or "operator") -> API token
    lease: dict[str, Lease]  # short name -> lease, as booked

    def leases_of(self, tenant: str) -> list[Lease]:
        return [le for le in self.services.leasing.leases() if le.tenant == tenant]

    def bookings_of(self, tenant: str) -> list[Booking]:
        """Every booking (lease or spare) of the tenant's leases, as the ledger has them now."""
        mine = {le.id for le in self.leases_of(tenant)}
        return [b for b in self.services.leasing.bookings(0, 2**62) if b.holder in mine]

    def nodes_of(self, tenant: str) -> set[str]:
        return {b.node for b in self.bookings_of(tenant)}

    def key_ids_of(self, tenant: str) -> set[str]:
        return {k.id for k in self.services.keys.list() if k.tenant == tenant}


def sequential_ids() -> Iterator[str]:
    return (f"L-{n:012x}" for n in itertools.count(1))


def build() -> TwoTenants:
    clock = ManualClock(T0)
    ids = sequential_ids()
    services = bootstrap.in_memory(clock, new_id=lambda: next(ids), serving_models=FakeModels())
    leasing = services.leasing
    h100 = a_group(count=14, gpu_model="H100")
    fleet = a_fleet(
        a_site("s1", blocks=(a_block("s1-b1", node_groups=(h100,)),)),
        a_site("s2", blocks=(a_block("s2-b1", node_groups=(a_group(count=8, gpu_model="H200"),)),)),
        a_site("s3", blocks=(a_block("s3-b1", node_groups=(a_group(count=2, gpu_model="H100"),)),)),
    )
    leasing.init(build_fleet(fleet), actor="setup")
    for name in (A, B):
        leasing.add_tenant(name, actor="setup")
    t0 = to_s(T0)

    def book(tenant: str, gpus: int, start: int, end: int, *, site: str = "s1", spare: bool = True) -> Lease:
        model = "H200" if site == "s2" else "H100"
        request = LeaseRequest(
            tenant,
            Shape((model,), gpus=gpus, locality=Locality.BLOCK, site=site),
            t0 + start,
            t0 + end,
            Money(Decimal("2.10")),
            spares=SparePolicy("block", 1) if spare else None,
        )
        return leasing.create(request, actor="setup")[0]

    lease = {
        "a1": book(A, 32, H, 10 * D),  # ends before b1 starts on the same nodes
        "a4": book(A, 16, H, 30 * D),  # b2 takes its nodes after it: extending it is blocked
        "b3": book(B, 8, H + 23 * M, 60 * D + 2 * H + 47 * M, spare=False),  # a node only B holds
        "b1": book(B, 32, 10 * D + 3 * H + 17 * M, 40 * D + 5 * H + 29 * M),
        "b2": book(B, 16, 30 * D + 2 * H + 13 * M, 50 * D + H + 7 * M),
        "a5": book(A, 16, H, 5 * D, site="s3", spare=False),
        "b4": book(B, 16, 5 * D + H + 41 * M, 45 * D + 3 * H + 19 * M, site="s3", spare=False),
        "a6": book(A, 32, H, 90 * D, site="s2", spare=False),  # to shrink and terminate
        "a8": book(A, 16, 60 * D, 70 * D, site="s2", spare=False),  # to cancel
    }
    request = LeaseRequest(A, Shape(("H200",), gpus=8, site="s2"), t0 + 61 * D, t0 + 62 * D, Money(Decimal("2.10")))
    lease["a7"] = leasing.create(request, actor="setup", hold=True, hold_s=30 * D)[0]  # to confirm
    shared = sorted(b.node for b in leasing.show(lease["a1"].id).bookings if b.kind.value == "lease")

    clock.advance(2 * H)  # a1 and a4 are active
    fail(services, shared[1])  # a1 heals from its spare; b1's later booking of the node moves too
    clock.advance(H)
    services.leasing.set_health(shared[1], Health.HEALTHY, at_s=None, actor="setup", reason="reseated")
    leasing.maintenance(shared[3], t0 + 35 * D + 4 * H + 41 * M, t0 + 36 * D + 4 * H + 41 * M, actor="setup")
    clock.set(T0 + timedelta(days=20))
    leasing.tick()  # a1 ends, b1 is active on the nodes a1 held
    clock.advance(53 * M)
    fail(services, shared[2])  # b1 heals on a node a1 held
    clock.advance(H + 11 * M)
    s3_node = sorted(b.node for b in leasing.show(lease["b4"].id).bookings)[0]
    fail(services, s3_node)  # b4 is left degraded on a node a5 held
    clock.set(T0 + timedelta(days=21))

    token = {
        name: services.keys.create(role=Role.TENANT, tenant=name, actor="setup", known_tenants={A, B}, label="t")[1]
        for name in (A, B)
    }
    token["operator"] = services.keys.create(
        role=Role.OPERATOR, tenant=None, actor="setup", known_tenants=set(), label="t"
    )[1]
    return TwoTenants(create_app(services), services, clock, token, lease)


def fail(services: Services, node: str) -> None:
    services.leasing.set_health(node, Health.FAILED, at_s=None, actor="setup", reason="Xid 79")


def client(world: TwoTenants) -> TestClient:
    return TestClient(world.app, raise_server_exceptions=True, follow_redirects=False)
