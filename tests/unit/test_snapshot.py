"""The placement snapshot of the demo fleet: shapes, block slices, healthy capacity."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.presets import preset
from neocloud.domain.shape import Level
from neocloud.domain.spec import build_fleet
from neocloud.placement.snapshot import HEALTH_CODES, FleetSnapshot, build_snapshot, health_codes

# demo-east: 576 GB200 = 8 NVL72 racks of 18 trays, 4 racks per block, one pod;
# demo-west: 512 H100 + 512 H200 in 8-GPU nodes, 32 nodes per block, a pod per model.
NODES, DOMAINS, BLOCKS, PODS, SITES, MODELS = 272, 8 + 128, 6, 3, 2, 3


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return build_fleet(preset("demo"))


@pytest.fixture(scope="module")
def snap(fleet: Fleet) -> FleetSnapshot:
    return build_snapshot(fleet)


def test_the_arrays_have_the_documented_shapes(snap: FleetSnapshot) -> None:
    for name in ("node_model", "node_gpus", "node_domain", "node_block", "node_pod", "node_site"):
        assert getattr(snap, name).shape == (NODES,), name
    for name in ("domain_block", "domain_model", "domain_nodes", "domain_gpus"):
        assert getattr(snap, name).shape == (DOMAINS,), name
    assert snap.domain_node_start.shape == (DOMAINS,)
    for name in ("block_pod", "block_site", "block_node_start", "block_node_end"):
        assert getattr(snap, name).shape == (BLOCKS,), name
    assert snap.block_gpus.shape == (BLOCKS, MODELS)
    assert (len(snap.node_ids), len(snap.domain_ids), len(snap.block_names)) == (NODES, DOMAINS, BLOCKS)
    assert (len(snap.pod_names), len(snap.site_names)) == (PODS, SITES)
    assert snap.models == ("GB200", "H100", "H200")
    assert snap.total_gpus == 1600


def test_a_block_slice_holds_exactly_that_blocks_nodes(snap: FleetSnapshot, fleet: Fleet) -> None:
    assert snap.block_node_start[0] == 0
    assert snap.block_node_end[-1] == NODES
    np.testing.assert_array_equal(snap.block_node_start[1:], snap.block_node_end[:-1])
    for b, name in enumerate(snap.block_names):
        start, end = int(snap.block_node_start[b]), int(snap.block_node_end[b])
        assert set(snap.node_ids[start:end]) == {n.id for n in fleet.nodes if n.block == name}, name
        assert (snap.node_block[start:end] == b).all()
        assert snap.block_gpus[b].sum() == int(snap.node_gpus[start:end].sum())


def test_a_domain_slice_holds_exactly_that_domains_nodes(snap: FleetSnapshot, fleet: Fleet) -> None:
    ends = [*snap.domain_node_start[1:], NODES]
    for d, dom in enumerate(snap.domain_ids):
        start, end = int(snap.domain_node_start[d]), int(ends[d])
        assert set(snap.node_ids[start:end]) == {n.id for n in fleet.nodes if n.nvlink_domain == dom}, dom
        assert snap.domain_nodes[d] == end - start
    nvl = [d for d, m in enumerate(snap.domain_model) if snap.models[m] == "GB200"]
    assert [int(snap.domain_gpus[d]) for d in nvl] == [72] * 8
    assert [int(snap.domain_nodes[d]) for d in nvl] == [18] * 8


def test_the_snapshot_holds_no_mutable_state(snap: FleetSnapshot) -> None:
    """Health and bookings change; the snapshot is topology only, so nothing can read a
    stale copy of them from it (issue 9: health kept twice drifted)."""
    fields = set(FleetSnapshot.__dataclass_fields__)
    assert not {f for f in fields if "health" in f or "free" in f or "booked" in f}, fields


def test_health_codes_read_the_fleets_health_in_snapshot_order(snap: FleetSnapshot, fleet: Fleet) -> None:
    by_id = {n.id: n for n in fleet.nodes}
    codes = health_codes(fleet, snap)
    assert [HEALTH_CODES[c] for c in codes] == [by_id[i].health for i in snap.node_ids]
    states = Counter(node.health for node in fleet.nodes)  # the demo has nodes in several states
    assert min(states[Health.FAILED], states[Health.MAINTENANCE], states[Health.DEGRADED]) > 0


def test_gpus_by_model_matches_a_direct_count(snap: FleetSnapshot, fleet: Fleet) -> None:
    direct: Counter[str] = Counter()
    for node in fleet.nodes:
        direct[node.gpu_model] += node.gpu_count
    assert snap.gpus_by_model() == dict(direct)
    assert sum(direct.values()) == fleet.gpu_count == 1600


@pytest.mark.parametrize("level", list(Level))
def test_every_node_has_one_unit_at_every_level(snap: FleetSnapshot, level: Level) -> None:
    unit_of = snap.unit_of(level)
    assert unit_of.shape == (NODES,)
    assert int(unit_of.min()) >= 0
    assert int(unit_of.max()) < snap.n_units(level) == len(snap.unit_names(level))
