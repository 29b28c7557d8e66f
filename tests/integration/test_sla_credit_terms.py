"""A lease's own SLA credit tiers and cap, through the services on memory, SQLite and
PostgreSQL: the invoice run credits by the tiers the lease was signed with, a lease
stating none records the defaults at booking (so changing a default later changes no
contract), the cap holds for stated tiers, and the lease document keeps them (an old
document without them loads with the defaults)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from neocloud.adapters.db.codec import decode_lease
from neocloud.billing.sla import credit_share, default_terms
from neocloud.domain import credits
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.credits import CreditTier, default_credit_tiers
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.services.billing import BillingService
from neocloud.services.leasing import LeasingService
from tests.integration.stores import STORE_KINDS, store_factory

HOUR = 3600
HEALTHY = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}
D = Decimal


def t(*args: int) -> int:
    return to_s(datetime(*args, tzinfo=UTC))


JAN_1, FEB_1, MAR_1 = t(2027, 1, 1), t(2027, 2, 1), t(2027, 3, 1)
STATED = (CreditTier(D("99.9"), D("0.05")), CreditTier(D("99"), D("0.50")))


class World:
    """Tenant acme and a healthy demo fleet on one store; leases of 8 H100 GPUs (one
    node) over January and February 2027 at an explicit $2.00 / GPU-h: 11,904.00 for
    January."""

    def __init__(self, kind: str, request: pytest.FixtureRequest) -> None:
        self.clock = ManualClock(datetime(2026, 12, 20, tzinfo=UTC))
        self.store = store_factory(kind, request)()
        self.leasing = LeasingService(self.store, self.clock)
        self.leasing.init(build_fleet(preset("demo", HEALTHY)), actor="test")
        self.leasing.add_tenant("acme", actor="test")
        self.billing = BillingService(self.store, self.leasing, self.clock)  # type: ignore[arg-type]

    def book(self, sla: str = "99.9", tiers: tuple[CreditTier, ...] = (), cap: str = "1") -> Lease:
        shape = Shape(("H100",), gpus=8, locality=Locality.BLOCK)
        request = LeaseRequest(
            "acme", shape, JAN_1, MAR_1, Money(D("2.00")), D(sla), sla_credit_tiers=tiers, sla_credit_cap=D(cap)
        )
        lease, _ = self.leasing.create(request, actor="test")
        return lease

    def fail_for_the_last_12_hours_of_january(self, lease: Lease) -> None:
        """Reported on Feb 1 06:00, dated Jan 31 12:00: the node is short 12 h of 744,
        availability 98.39% (the swap comes with the report)."""
        node = next(b.node for b in self.leasing.lease_bookings(lease.id) if b.holder == lease.id)
        self.clock.set(datetime.fromtimestamp(FEB_1 + 6 * HOUR, UTC))
        self.leasing.set_health(node, Health.FAILED, at_s=FEB_1 - 12 * HOUR, actor="ops", reason="late report")

    def lease(self, lease_id: str, leasing: LeasingService | None = None) -> Lease:
        return next(le for le in (leasing or self.leasing).leases() if le.id == lease_id)

    def credit(self) -> Money:
        [invoice] = self.billing.run("2027-01", actor="ops").invoices
        [line] = [x for x in invoice.lines if x.evidence]
        return line.amount


@pytest.fixture(params=STORE_KINDS)
def world(request: pytest.FixtureRequest) -> World:
    return World(request.param, request)


def test_a_lease_booked_with_stated_tiers_is_credited_by_those_tiers(world: World) -> None:
    lease = world.book(tiers=STATED)
    world.fail_for_the_last_12_hours_of_january(lease)
    assert world.lease(lease.id).request.sla_credit_tiers == STATED  # as stored
    # 98.39% is below 99: the lease's 50%, where the defaults under 99.9 give 10%
    assert world.credit() == Money(D("-5952.00"))
    [month] = world.billing.lease_sla(lease.id).months[:1]
    assert credit_share(month.usage, default_terms(D("99.9"))) == D("0.10")


def test_a_lease_stating_no_tiers_keeps_the_defaults_it_was_signed_with(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = world.book(sla="99")
    signed = default_credit_tiers(D("99"))
    assert world.lease(lease.id).request.sla_credit_tiers == signed  # recorded at booking
    world.fail_for_the_last_12_hours_of_january(lease)
    monkeypatch.setattr(credits, "TARGET_TIER_SHARE", D("0.90"))  # the default changes after the booking
    assert default_credit_tiers(D("99"))[0].share == D("0.90")
    assert world.credit() == Money(D("-1190.40"))  # still the 10% it was signed with


def test_the_cap_applies_to_stated_tiers(world: World) -> None:
    lease = world.book(sla="99", tiers=(CreditTier(D("99"), D("1")),), cap="0.30")
    world.fail_for_the_last_12_hours_of_january(lease)
    assert world.credit() == Money(D("-3571.20"))  # 100% by the tier, 30% of 11,904.00 by the cap


def test_the_stored_lease_keeps_its_tiers_and_cap(world: World) -> None:
    lease = world.book(tiers=STATED, cap="0.75")
    again = world.lease(lease.id, LeasingService(world.store, world.clock))  # read back through a new service
    assert (again.request.sla_credit_tiers, again.request.sla_credit_cap) == (STATED, D("0.75"))
    assert again == lease


def test_a_lease_document_written_before_credit_tiers_loads_with_the_defaults() -> None:
    old = {  # format 1 as written before leases recorded their tiers: no sla_credit_tiers, no cap
        "format": 1,
        "id": "L-old",
        "request": {
            "tenant": "acme",
            "shape": {"models": ["H100"], "gpus": 8, "unit": None, "units": 1, "locality": "block", "site": None},
            "start_s": JAN_1,
            "end_s": MAR_1,
            "price_per_gpu_hour": {"amount": "2.00", "currency": "USD"},
            "sla_availability_pct": "99.5",
            "steps": [],
            "spares": None,
            "tier": "reserved",
            "price_version": None,
            "maintenance_notice_s": 604800,
        },
        "state": "confirmed",
        "model": "H100",
        "contract": [[JAN_1, MAR_1, 8]],
        "created_s": JAN_1 - 86_400,
        "hold_expires_s": None,
        "history": [{"from": None, "to": "confirmed", "at_s": JAN_1 - 86_400, "actor": "ops", "reason": "booked"}],
        "degraded_nodes": [],
    }
    request = decode_lease(old).request
    assert request.sla_credit_tiers == default_credit_tiers(D("99.5")) == default_terms(D("99.5")).tiers
    assert request.sla_credit_cap == D("1.00")
