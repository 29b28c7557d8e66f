"""A lease's bookings summarised per fabric block at one instant."""

from __future__ import annotations

import numpy as np

from neocloud.domain.health import Health
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.domain.spec import build_fleet
from neocloud.placement.snapshot import HEALTH_CODES, build_snapshot
from neocloud.services.lease_blocks import BlockShare, block_shares, summary_instant
from tests.builders import a_block, a_fleet, a_group, a_site

T0, T1, T2 = 1_000, 2_000, 3_000
LEASE, SPARE = HolderKind.LEASE, HolderKind.SPARE


def _snapshot():  # type: ignore[no-untyped-def]
    blocks = (a_block("b1"), a_block("b2", node_groups=(a_group(gpu_model="H200"),)), a_block("b3"))
    return build_snapshot(build_fleet(a_fleet(a_site("s1", blocks=blocks))))


def _booking(n: int, node: str, start: int, end: int, kind: HolderKind = LEASE) -> Booking:
    return Booking(n, node, start, end, kind, "L-1")


def test_each_block_counts_the_nodes_gpus_and_spares_held_there() -> None:
    snap = _snapshot()
    index = {n: i for i, n in enumerate(snap.node_ids)}
    bookings = [
        _booking(1, "b1-n01", T0, T2),
        _booking(2, "b1-n02", T0, T2),
        _booking(3, "b1-n03", T0, T2, SPARE),
        _booking(4, "b2-n01", T0, T2),
    ]
    shares = block_shares(snap, index, np.zeros(len(snap.node_ids), np.int8), bookings, T1)
    gpus = int(snap.node_gpus[index["b1-n01"]])
    assert shares == [
        BlockShare("s1", "b1", "H100", nodes=2, gpus=2 * gpus, spares=1, unhealthy=0),
        BlockShare("s1", "b2", "H200", nodes=1, gpus=int(snap.node_gpus[index["b2-n01"]]), spares=0, unhealthy=0),
    ]


def test_only_bookings_that_cover_the_instant_count() -> None:
    snap = _snapshot()
    index = {n: i for i, n in enumerate(snap.node_ids)}
    bookings = [
        _booking(1, "b1-n01", T0, T1),  # swapped out at T1
        _booking(2, "b1-n02", T1, T2),  # its replacement
        _booking(3, "b3-n01", T2, T2 + 1_000),  # a later step
    ]
    (share,) = block_shares(snap, index, np.zeros(len(snap.node_ids), np.int8), bookings, T1)
    assert (share.block, share.nodes) == ("b1", 1)
    assert [s.block for s in block_shares(snap, index, np.zeros(len(snap.node_ids), np.int8), bookings, T0)] == ["b1"]
    assert [s.block for s in block_shares(snap, index, np.zeros(len(snap.node_ids), np.int8), bookings, T2)] == ["b3"]


def test_nodes_and_spares_not_healthy_now_are_counted_per_block() -> None:
    snap = _snapshot()
    index = {n: i for i, n in enumerate(snap.node_ids)}
    health = np.zeros(len(snap.node_ids), np.int8)
    health[index["b1-n01"]] = HEALTH_CODES.index(Health.FAILED)
    health[index["b1-n03"]] = HEALTH_CODES.index(Health.DEGRADED)
    health[index["b1-n04"]] = HEALTH_CODES.index(Health.FAILED)  # failed but not this lease's
    bookings = [_booking(1, "b1-n01", T0, T2), _booking(2, "b1-n02", T0, T2), _booking(3, "b1-n03", T0, T2, SPARE)]
    (share,) = block_shares(snap, index, health, bookings, T1)
    assert share.unhealthy == 2


def test_no_bookings_summarise_to_no_blocks() -> None:
    snap = _snapshot()
    assert (
        block_shares(snap, {n: i for i, n in enumerate(snap.node_ids)}, np.zeros(len(snap.node_ids), np.int8), [], T1)
        == []
    )


def test_a_lease_is_summarised_now_within_its_term() -> None:
    assert summary_instant(T0, T2, T1) == T1
    assert summary_instant(T0, T2, T0 - 500) == T0  # not started: what it starts with
    assert summary_instant(T0, T2, T2 + 500) == T2 - 1  # ended: what it ended with
