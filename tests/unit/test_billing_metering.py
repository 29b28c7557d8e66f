"""Metering (billing/metering.py): contracted, delivered-healthy and excluded GPU-seconds
of a lease in a period, and the evidence behind a shortfall, on hand-computed cases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from neocloud.billing.metering import UNBOOKED, UNREPLACED, LeaseHistory, meter
from neocloud.domain.billing import Evidence, period
from neocloud.domain.health import Health
from neocloud.domain.leases import LeaseState
from neocloud.domain.ledger import HolderKind
from tests.billing_builders import DAY, HOUR, a_lease, at, bookings, history, whole

JAN = period("2027-01")


def test_contracted_seconds_are_the_contract_clipped_to_the_period() -> None:
    lease = a_lease(((at(2026, 12, 20), at(2027, 1, 10), 16), (at(2027, 1, 10), at(2027, 3, 1), 24)))
    usage = meter(history(lease, whole(lease, 3)), JAN)
    assert usage.contracted_gpu_s == 16 * 9 * DAY + 24 * 22 * DAY
    assert usage.delivered_gpu_s == usage.contracted_gpu_s  # 24 GPUs booked throughout, healthy
    assert usage.shortfall_gpu_s == 0
    assert usage.missing == ()
    assert usage.availability == 1.0


def test_a_failed_node_without_replacement_is_missing_from_the_failure_to_its_repair() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 16),))
    log = (("n001", at(2027, 1, 5, 12), Health.FAILED), ("n001", at(2027, 1, 7), Health.HEALTHY))
    usage = meter(history(lease, whole(lease, 2), log), JAN)
    assert usage.shortfall_gpu_s == 8 * 36 * HOUR
    assert usage.delivered_gpu_s == 16 * 31 * DAY - 8 * 36 * HOUR
    assert usage.missing == (Evidence("n001", at(2027, 1, 5, 12), at(2027, 1, 7), 8, "failed"),)


def test_a_node_failed_then_in_maintenance_shows_both_states_as_evidence() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 8),))
    log = (
        ("n000", at(2027, 1, 5), Health.FAILED),
        ("n000", at(2027, 1, 6), Health.MAINTENANCE),
        ("n000", at(2027, 1, 8), Health.HEALTHY),
    )
    usage = meter(history(lease, whole(lease, 1), log), JAN)
    assert [(e.cause, e.start_s, e.end_s) for e in usage.missing] == [
        ("failed", at(2027, 1, 5), at(2027, 1, 6)),
        ("maintenance", at(2027, 1, 6), at(2027, 1, 8)),
    ]
    assert usage.shortfall_gpu_s == 8 * 3 * DAY


def test_a_swapped_in_spare_delivers_from_the_swap_and_the_failed_node_stops_being_missing() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 16),))
    fail, swap = at(2027, 1, 10), at(2027, 1, 10, 6)  # the swap six hours after the failure
    booked = bookings(
        lease,
        ("n000", lease.start_s, lease.end_s),
        ("n001", lease.start_s, swap),  # truncated by the swap: keeps its past interval
        ("s000", swap, lease.end_s),  # the spare, a lease booking from the swap
    )
    spare = bookings(lease, ("s000", lease.start_s, swap), kind=HolderKind.SPARE)
    log = (("n001", fail, Health.FAILED),)  # never repaired: it left the lease
    usage = meter(history(lease, (*booked, *spare), log), JAN)
    assert usage.shortfall_gpu_s == 8 * 6 * HOUR
    assert usage.missing == (Evidence("n001", fail, swap, 8, "failed"),)


def test_a_spare_booking_delivers_nothing_to_the_lease() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 8),))
    booked = bookings(lease, ("s000", lease.start_s, lease.end_s), kind=HolderKind.SPARE)
    usage = meter(history(lease, booked), JAN)
    assert usage.delivered_gpu_s == 0
    assert usage.missing == (Evidence("", lease.start_s, lease.end_s, 8, UNBOOKED),)


def test_a_node_that_left_without_a_replacement_is_evidence_until_the_contract_is_booked_again() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 16),))
    left, back = at(2027, 1, 20), at(2027, 1, 22)
    booked = bookings(
        lease, ("n000", lease.start_s, lease.end_s), ("n001", lease.start_s, left), ("n002", back, lease.end_s)
    )
    usage = meter(history(lease, booked), JAN)
    assert usage.missing == (Evidence("n001", left, back, 8, UNREPLACED),)


def test_delivered_never_exceeds_the_contract_when_whole_nodes_hold_more_gpus() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 12),))  # 12 GPUs on two 8-GPU nodes
    log = (("n000", at(2027, 1, 3), Health.FAILED), ("n000", at(2027, 1, 4), Health.HEALTHY))
    usage = meter(history(lease, whole(lease, 2), log), JAN)
    assert usage.delivered_gpu_s == 12 * 31 * DAY - 4 * DAY  # 8 healthy of 12 contracted for a day
    assert usage.missing == (Evidence("n000", at(2027, 1, 3), at(2027, 1, 4), 4, "failed"),)
    assert sum(e.gpu_s for e in usage.missing) == usage.shortfall_gpu_s


def test_a_maintenance_window_the_contract_excludes_counts_on_neither_side() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 8),))
    window = (at(2027, 1, 10), at(2027, 1, 11))
    log = (("n000", window[0], Health.MAINTENANCE), ("n000", window[1] + 2 * HOUR, Health.HEALTHY))
    usage = meter(history(lease, whole(lease, 1), log, windows=(window,)), JAN)
    assert usage.excluded_gpu_s == 8 * DAY
    assert usage.shortfall_gpu_s == 8 * 2 * HOUR  # the overrun past the window counts
    assert usage.missing == (Evidence("n000", window[1], window[1] + 2 * HOUR, 8, "maintenance"),)
    assert usage.counted_gpu_s == 8 * 30 * DAY


def test_overlapping_windows_exclude_their_union_once() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 8),))
    windows = ((at(2027, 1, 10), at(2027, 1, 12)), (at(2027, 1, 11), at(2027, 1, 13)))
    usage = meter(history(lease, whole(lease, 1), windows=windows), JAN)
    assert usage.excluded_gpu_s == 8 * 3 * DAY


def test_a_degraded_node_is_missing_as_only_healthy_nodes_deliver() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 8),))
    log = (("n000", at(2027, 1, 30), Health.DEGRADED),)
    usage = meter(history(lease, whole(lease, 1), log), JAN)
    assert usage.missing == (Evidence("n000", at(2027, 1, 30), at(2027, 2, 1), 8, "degraded"),)


def test_health_records_given_out_of_order_meter_the_same() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 16),))
    log = (
        ("n000", at(2027, 1, 3), Health.FAILED),
        ("n001", at(2027, 1, 9), Health.FAILED),
        ("n000", at(2027, 1, 4), Health.HEALTHY),
        ("n001", at(2027, 1, 10), Health.HEALTHY),
    )
    in_order = meter(history(lease, whole(lease, 2), tuple(sorted(log, key=lambda r: r[1]))), JAN)
    shuffled = meter(history(lease, whole(lease, 2), log[::-1]), JAN)
    assert shuffled == in_order


def test_a_failure_before_the_period_counts_from_the_period_start() -> None:
    lease = a_lease(((at(2026, 12, 1), at(2027, 2, 1), 8),))
    log = (("n000", at(2026, 12, 31), Health.FAILED), ("n000", at(2027, 1, 2), Health.HEALTHY))
    usage = meter(history(lease, whole(lease, 1), log), JAN)
    assert usage.missing == (Evidence("n000", JAN.start_s, at(2027, 1, 2), 8, "failed"),)


def test_a_lease_outside_the_period_meters_nothing() -> None:
    lease = a_lease(((at(2027, 2, 1), at(2027, 3, 1), 8),))
    usage = meter(history(lease, whole(lease, 1)), JAN)
    assert (usage.contracted_gpu_s, usage.delivered_gpu_s, usage.availability) == (0, 0, None)


def test_a_booking_that_starts_while_nodes_are_missing_replaces_the_latest_to_leave() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 24),))
    t1, t2, t3 = at(2027, 1, 5), at(2027, 1, 6), at(2027, 1, 7)
    booked = bookings(
        lease,
        ("n000", lease.start_s, lease.end_s),
        ("n001", lease.start_s, t1),
        ("n002", lease.start_s, t2),
        ("n003", t3, lease.end_s),  # takes over from n002, the latest to leave
    )
    usage = meter(history(lease, booked), JAN)
    assert usage.missing == (
        Evidence("n001", t1, lease.end_s, 8, UNREPLACED),
        Evidence("n002", t2, t3, 8, UNREPLACED),
    )


@pytest.mark.parametrize("state", [LeaseState.HELD, LeaseState.CANCELLED, LeaseState.EXPIRED])
def test_a_lease_never_confirmed_or_cancelled_before_its_start_contracts_nothing(state: LeaseState) -> None:
    lease = replace(a_lease(((at(2027, 1, 1), at(2027, 2, 1), 8),)), state=state)
    usage = meter(history(lease, whole(lease, 1)), JAN)
    assert (usage.contracted_gpu_s, usage.delivered_gpu_s, usage.missing) == (0, 0, ())


def test_a_booked_node_without_a_gpu_count_is_refused_by_name() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 8),))
    with pytest.raises(ValueError, match="node n000 is booked but its GPU count was not given"):
        meter(LeaseHistory(lease, whole(lease, 1), {}), JAN)


def test_the_period_so_far_meters_up_to_the_instant_given() -> None:
    lease = a_lease(((at(2027, 1, 1), at(2027, 2, 1), 8),))
    log = (("n000", at(2027, 1, 9), Health.FAILED),)  # still down on the 10th
    usage = meter(history(lease, whole(lease, 1), log), JAN, until_s=at(2027, 1, 10))
    assert usage.contracted_gpu_s == 8 * 9 * DAY
    assert usage.missing == (Evidence("n000", at(2027, 1, 9), at(2027, 1, 10), 8, "failed"),)
    assert usage.availability == 8 / 9
    assert meter(history(lease, whole(lease, 1)), JAN, until_s=at(2026, 12, 1)).contracted_gpu_s == 0
