"""Holdings of one node from its bookings and the swaps its leases' amendments record:
in time order, a truncated booking keeping its past, a released one gone, an extension
onto another node marked as a swap out, a shrink's release marked as none."""

from __future__ import annotations

from dataclasses import replace

from neocloud.billing.custody import health_steps, holdings, swaps_of
from neocloud.domain.health import Health, HealthRecord
from neocloud.domain.leases import Amendment, AmendmentKind
from neocloud.domain.ledger import Booking, HolderKind
from tests.billing_builders import DAY, a_lease, at

T = at(2027, 3, 1)
L, S, P = HolderKind.LEASE, HolderKind.SPARE, HolderKind.POOL


def amended(kind: AmendmentKind, effective_s: int, nodes, reason: str):
    lease = a_lease(((T, T + 40 * DAY, 16),))
    change = Amendment(kind, effective_s, effective_s, "ops", reason, lease.contract, lease.contract, nodes)
    return replace(lease, amendments=(change,))


def test_an_extension_onto_another_node_ends_the_old_nodes_holding_as_a_swap_out():
    lease = amended(AmendmentKind.EXTEND, T + 30 * DAY, (("n1", "n9"),), "extended to 2027-04-10, 1 node(s) swapped")
    booked = [Booking(1, "n1", T, T + 30 * DAY, L, lease.id), Booking(2, "n9", T + 30 * DAY, T + 40 * DAY, L, lease.id)]
    [held] = holdings("n1", booked, {lease.id: "acme"}, swaps_of(lease))
    assert held.swapped_out is not None
    assert (held.end_s, held.swapped_out.other_node) == (T + 30 * DAY, "n9")
    assert held.swapped_out.reason == "extended to 2027-04-10, 1 node(s) swapped"
    [took_over] = holdings("n9", booked, {lease.id: "acme"}, swaps_of(lease))
    assert took_over.swapped_in is not None
    assert took_over.swapped_in.other_node == "n1"


def test_a_node_a_shrink_released_is_no_swap():
    lease = amended(AmendmentKind.SHRINK, T + 10 * DAY, (("n1", None),), "shrunk to 8 GPUs")
    assert swaps_of(lease) == []
    [held] = holdings("n1", [Booking(1, "n1", T, T + 10 * DAY, L, lease.id)], {lease.id: "acme"}, swaps_of(lease))
    assert held.swapped_out is None


def test_holdings_come_in_time_order_and_a_released_booking_is_not_one():
    booked = [
        Booking(7, "n1", T + 20 * DAY, T + 30 * DAY, P, "burn-in"),
        Booking(3, "n1", T, T + 5 * DAY, S, "L-1"),
        Booking(4, "n1", T + 5 * DAY, T + 5 * DAY, L, "L-1"),  # released: it held nothing
        Booking(5, "n2", T, T + 30 * DAY, L, "L-1"),  # another node
    ]
    found = holdings("n1", booked, {"L-1": "acme"}, [])
    assert [(h.kind, h.holder, h.tenant, h.start_s) for h in found] == [
        (S, "L-1", "acme", T),
        (P, "burn-in", None, T + 20 * DAY),
    ]
    assert [h.lease_id for h in found] == ["L-1", None]


def test_health_steps_take_from_the_previous_record_and_start_healthy():
    log = [
        HealthRecord("n1", T, Health.DEGRADED, "ECC errors"),
        HealthRecord("n1", T + 60, Health.FAILED, "fell off the bus"),
    ]
    steps = health_steps(log)
    assert [(s.from_state, s.to_state) for s in steps] == [
        (Health.HEALTHY, Health.DEGRADED),
        (Health.DEGRADED, Health.FAILED),
    ]
