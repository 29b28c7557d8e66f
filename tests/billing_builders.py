"""Builders for billing tests: a lease on 8-GPU nodes, its bookings, health records."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from neocloud.billing.metering import LeaseHistory
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseRequest, LeaseState, Segment, Tier
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.domain.money import Money
from neocloud.domain.shape import Shape

HOUR = 3600
DAY = 86_400
GPUS_PER_NODE = 8


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch seconds of a UTC date and time."""
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


def a_lease(
    segments: tuple[tuple[int, int, int], ...],
    *,
    lease_id: str = "L-1",
    tenant: str = "acme",
    tier: Tier = Tier.RESERVED,
    price: str = "2.00",
    version: int | None = None,
    sla: str = "99.0",
    model: str = "H100",
) -> Lease:
    """A lease with contract ``segments`` ``(start_s, end_s, gpus)``."""
    contract = tuple(Segment(s, e, g) for s, e, g in segments)
    request = LeaseRequest(
        tenant,
        Shape((model,), gpus=contract[0].gpus),
        contract[0].start_s,
        contract[-1].end_s,
        Money(Decimal(price), "USD"),
        sla_availability_pct=Decimal(sla),
        tier=tier,
        price_version=version,
    )
    return Lease(lease_id, request, LeaseState.ACTIVE, model, contract, contract[0].start_s - DAY)


def bookings(lease: Lease, *spans: tuple[str, int, int], kind: HolderKind = HolderKind.LEASE) -> tuple[Booking, ...]:
    """Bookings of ``lease``: ``(node, start_s, end_s)`` each."""
    return tuple(Booking(k, node, s, e, kind, lease.id) for k, (node, s, e) in enumerate(spans, start=1))


def whole(lease: Lease, nodes: int, prefix: str = "n") -> tuple[Booking, ...]:
    """``nodes`` nodes booked over the lease's whole term."""
    return bookings(lease, *((f"{prefix}{k:03d}", lease.start_s, lease.end_s) for k in range(nodes)))


def history(
    lease: Lease,
    booked: tuple[Booking, ...],
    log: tuple[tuple[str, int, Health], ...] = (),
    windows: tuple[tuple[int, int], ...] = (),
) -> LeaseHistory:
    return LeaseHistory(lease, booked, {b.node: GPUS_PER_NODE for b in booked}, log, windows)
