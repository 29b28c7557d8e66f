"""The placement snapshot of the demo fleet: shapes, block slices, healthy capacity."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.placement.snapshot import HEALTH_CODES, FleetSnapshot, build_snapshot

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
    for name in ("node_model", "node_gpus", "node_health", "node_domain", "node_block", "node_pod", "node_site"):
        assert getattr(snap, name).shape == (NODES,), name
    for name in ("domain_block", "domain_model", "domain_nodes", "domain_gpus", "domain_healthy_gpus"):
        assert getattr(snap, name).shape == (DOMAINS,), name
    assert snap.domain_node_start.shape == (DOMAINS,)
    for name in ("block_pod", "block_site", "block_node_start", "block_node_end"):
        assert getattr(snap, name).shape == (BLOCKS,), name
    assert snap.block_gpus.shape == (BLOCKS, MODELS)
    assert snap.block_healthy_gpus.shape == (BLOCKS, MODELS)
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


def test_domain_healthy_gpus_leave_out_failed_maintenance_and_degraded_nodes(snap: FleetSnapshot, fleet: Fleet) -> None:
    healthy: Counter[str] = Counter()
    for node in fleet.nodes:
        if node.health is Health.HEALTHY:
            healthy[node.nvlink_domain] += node.gpu_count
    assert [int(g) for g in snap.domain_healthy_gpus] == [healthy[d] for d in snap.domain_ids]
    # the demo has nodes in each of those states, so some domains lose capacity
    states = Counter(node.health for node in fleet.nodes)
    assert min(states[Health.FAILED], states[Health.MAINTENANCE], states[Health.DEGRADED]) > 0
    lost = sum(n.gpu_count for n in fleet.nodes if n.health is not Health.HEALTHY)
    assert int((snap.domain_gpus - snap.domain_healthy_gpus).sum()) == lost > 0


def test_node_health_codes_match_the_fleet(snap: FleetSnapshot, fleet: Fleet) -> None:
    by_id = {n.id: n for n in fleet.nodes}
    assert [HEALTH_CODES[c] for c in snap.node_health] == [by_id[i].health for i in snap.node_ids]


@pytest.mark.parametrize("healthy_only", [False, True])
def test_gpus_by_model_matches_a_direct_count(snap: FleetSnapshot, fleet: Fleet, healthy_only: bool) -> None:
    direct: Counter[str] = Counter()
    for node in fleet.nodes:
        if not healthy_only or node.health is Health.HEALTHY:
            direct[node.gpu_model] += node.gpu_count
    assert snap.gpus_by_model(healthy_only=healthy_only) == dict(direct)
    if healthy_only:  # the demo's failed, degraded and in-maintenance nodes are left out
        assert sum(direct.values()) < fleet.gpu_count
    else:
        assert sum(direct.values()) == fleet.gpu_count == 1600
