"""The custody trail through the service, on every store: a GPU that failed during one
tenant's lease, was swapped out, repaired, and later held by another tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from neocloud.billing.custody import Matched
from neocloud.domain.access import OperatorOnly
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.errors import NotFound
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseRequest
from neocloud.domain.ledger import HolderKind
from neocloud.domain.money import Money, round_money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.services.billing import BillingService
from neocloud.services.custody import CustodyService
from neocloud.services.leasing import LeasingService
from neocloud.services.visibility import Viewer
from tests.integration.stores import STORE_KINDS, store_factory

START = datetime(2027, 1, 4, tzinfo=UTC)
DAY = 86_400
T0 = to_s(START)


def h100(gpus: int, tenant: str, start_days: int, days: int) -> LeaseRequest:
    t0 = T0 + start_days * DAY
    shape = Shape(("H100",), gpus=gpus, locality=Locality.ANYWHERE)
    return LeaseRequest(tenant, shape, t0, t0 + days * DAY, Money(Decimal("2.35")))


@dataclass
class History:
    """What happened, as the test made it happen."""

    leasing: LeasingService
    custody: CustodyService
    billing: BillingService
    acme: Lease
    globex: Lease
    failed: str  # the node that failed in acme's lease
    replacement: str  # the node that took over from it
    failed_at: int


@pytest.fixture(params=STORE_KINDS)
def history(request) -> History:
    clock = ManualClock(START)
    leasing = LeasingService(store_factory(request.param, request)(), clock)
    healthy = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}
    leasing.init(build_fleet(preset("demo", healthy)), actor="test")
    for tenant in ("acme", "globex"):
        leasing.add_tenant(tenant, actor="test")
    acme, _ = leasing.create(h100(64, "acme", 1, 30), actor="op")
    failed = sorted(b.node for b in leasing.lease_bookings(acme.id))[2]
    clock.advance(days=5)
    failed_at = to_s(clock.now())
    leasing.set_health(failed, Health.FAILED, at_s=None, actor="ops", reason="XID 79: GPU 3 fell off the bus")
    [replacement] = {b.node for b in leasing.lease_bookings(acme.id) if b.start_s == failed_at}
    clock.advance(hours=2)
    leasing.set_health(failed, Health.MAINTENANCE, at_s=None, actor="ops", reason="RMA opened for GPU 3")
    clock.advance(days=1)
    leasing.set_health(failed, Health.HEALTHY, at_s=None, actor="ops", reason="GPU replaced, burn-in passed")
    free = 512 - 64  # every other H100 of the demo fleet, the repaired node among them
    globex, _ = leasing.create(h100(free, "globex", 10, 10), actor="op")
    billing = BillingService(leasing.store, leasing, clock)  # type: ignore[arg-type]
    return History(leasing, CustodyService(leasing, billing), billing, acme, globex, failed, replacement, failed_at)


def node_of(h: History, node_id: str):
    return next(n for n in h.leasing.fleet().nodes if n.id == node_id)


def test_a_gpu_that_failed_in_one_lease_shows_both_tenants_and_every_health_record_in_order(history: History):
    h = history
    node = node_of(h, h.failed)
    trail = h.custody.trail(node.gpu_serials[3])
    assert (trail.located.node.id, trail.located.matched, trail.located.gpu_index) == (h.failed, Matched.GPU_SERIAL, 3)
    assert [(s.from_state, s.to_state, s.reason) for s in trail.health] == [
        (Health.HEALTHY, Health.FAILED, "XID 79: GPU 3 fell off the bus"),
        (Health.FAILED, Health.MAINTENANCE, "RMA opened for GPU 3"),
        (Health.MAINTENANCE, Health.HEALTHY, "GPU replaced, burn-in passed"),
    ]
    assert [s.at_s for s in trail.health] == [h.failed_at, h.failed_at + 7_200, h.failed_at + 7_200 + DAY]
    first, second = trail.holdings
    assert (first.kind, first.holder, first.tenant) == (HolderKind.LEASE, h.acme.id, "acme")
    assert (first.start_s, first.end_s) == (h.acme.start_s, h.failed_at)  # the past interval is kept
    assert first.swapped_out is not None
    assert (first.swapped_out.other_node, first.swapped_out.at_s) == (h.replacement, h.failed_at)
    assert first.swapped_out.reason == "node failed"
    assert (second.holder, second.tenant, second.start_s, second.end_s) == (
        h.globex.id,
        "globex",
        h.globex.start_s,
        h.globex.end_s,
    )
    assert second.swapped_in is None
    assert second.swapped_out is None


def test_the_replacement_node_shows_the_swap_that_brought_it_in(history: History):
    h = history
    trail = h.custody.trail(h.replacement)
    assert trail.located.matched is Matched.NODE_ID
    [held] = [x for x in trail.holdings if x.holder == h.acme.id]
    assert held.swapped_in is not None
    assert (held.start_s, held.swapped_in.other_node, held.swapped_in.at_s) == (h.failed_at, h.failed, h.failed_at)
    assert trail.health == ()


def test_a_node_serial_finds_the_node_without_a_gpu_index(history: History):
    h = history
    trail = h.custody.trail(node_of(h, h.failed).serial)
    assert (trail.located.node.id, trail.located.matched, trail.located.gpu_index) == (
        h.failed,
        Matched.NODE_SERIAL,
        None,
    )


def test_an_unknown_serial_is_not_found_naming_the_field(history: History):
    with pytest.raises(NotFound, match="serial: no GPU serial, node serial or node id 'GPU-nope' in the fleet"):
        history.custody.trail("GPU-nope")


def test_a_tenant_may_not_read_the_custody_trail_even_of_its_own_node(history: History):
    with pytest.raises(OperatorOnly):
        history.custody.trail(history.failed, viewer=Viewer("acme"))


def test_after_the_january_run_each_tenant_is_billed_for_the_node_by_its_share_of_gpu_seconds(history: History):
    h = history
    assert h.custody.trail(h.failed).billing == ()  # nothing invoiced yet, and the trail says so
    assert h.custody.trail(h.failed).billing_note == (
        "no stored invoice or credit note bills a lease for its time on this node"
    )
    h.leasing.clock.set(datetime(2027, 2, 2, tzinfo=UTC))  # type: ignore[attr-defined]
    run = h.billing.run("2027-01", actor="ops")
    charge = {i.tenant: next(x for x in i.lines if x.lease_id in (h.acme.id, h.globex.id)) for i in run.invoices}
    acme, globex = h.custody.trail(h.failed).billing
    # acme: the node's 8 GPUs for the 4 days before it failed, of the lease's 64 GPUs x 27 January days
    assert (acme.tenant, acme.lease_id, acme.document) == ("acme", h.acme.id, "INV-acme-2027-01")
    assert (acme.node_gpu_s, acme.basis_gpu_s) == (8 * 4 * DAY, 64 * 27 * DAY)
    assert acme.amount.amount == round_money(charge["acme"].amount.amount * 32 / 1728, "USD")
    # globex: the node's 8 GPUs of its 448, over the whole of its 10 days
    assert (globex.tenant, globex.node_gpu_s, globex.basis_gpu_s) == ("globex", 8 * 10 * DAY, 448 * 10 * DAY)
    assert globex.amount.amount == round_money(charge["globex"].amount.amount * 8 / 448, "USD")
    assert acme.amount.amount > 0
    assert h.custody.trail(h.failed).billing_note is None
