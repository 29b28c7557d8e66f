"""Job placement inside nodes: counters kept as allocations apply, and each policy's choice."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.placement.fragmentation import measure_pool
from neocloud.placement.jobs import JobPlacement, place_job
from neocloud.placement.pool import Allocation, GpuPool
from neocloud.placement.snapshot import FleetSnapshot, build_snapshot


@pytest.fixture(scope="module")
def snap() -> FleetSnapshot:
    # H100 8-GPU nodes in 512-GPU blocks, and GB200 racks: 4-GPU nodes in 72-GPU NVLink domains
    spec = preset("generic", {"power_mw": "4", "mix": "H100:0.6,GB200:0.4", "block_gpus": "512"})
    return build_snapshot(build_fleet(spec))


def model(snap: FleetSnapshot, name: str) -> int:
    return snap.models.index(name)


def placed(result: Allocation | None) -> Allocation:
    assert result is not None
    return result


def test_the_fleet_under_test_has_two_node_sizes_and_multi_node_domains(snap):
    assert {int(g) for g in np.unique(snap.node_gpus)} == {4, 8}
    assert int(snap.domain_gpus.max()) == 72


STEPS = st.lists(
    st.tuples(
        st.sampled_from(list(JobPlacement)),
        st.integers(1, 80),
        st.booleans(),  # consolidate
        st.integers(0, 10_000),  # which held allocation to give back, if any
        st.integers(0, 10_000),  # which node's capacity to change
        st.integers(0, 8),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_counters_equal_a_recount_after_any_sequence_of_takes_gives_and_capacity_changes(snap, steps):
    _sequence(snap, steps)


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_the_array_path_for_many_nodes_keeps_the_same_counters(snap, steps):
    # every allocation through the array path (one node or more), recounted after each step
    with mock.patch("neocloud.placement.pool.VECTOR_MIN_NODES", 1):
        _sequence(snap, steps)


def _sequence(snap, steps):
    pool = GpuPool(snap)
    held: list[Allocation] = []
    for policy, gpus, consolidate, give, node, cap in steps:
        free_before = pool.total_free
        alloc = place_job(pool, gpus, policy, consolidate=consolidate)
        if alloc is not None:
            assert alloc.total == gpus
            assert len(set(alloc.nodes)) == len(alloc.nodes)
            pool.take(alloc)
            held.append(alloc)
            assert pool.total_free == free_before - gpus
        if held and give % 3 == 0:
            pool.give(held.pop(give % len(held)))
        n = node % len(snap.node_ids)
        if pool.used[n] <= min(cap, int(snap.node_gpus[n])):
            pool.set_capacity(n, min(cap, int(snap.node_gpus[n])))
        assert pool.problems() == []
    for alloc in held:
        pool.give(alloc)
    assert pool.total_used == 0
    assert pool.problems() == []


def test_a_take_beyond_what_is_free_is_refused_and_changes_nothing(snap):
    pool = GpuPool(snap)
    pool.take(Allocation((0,), (6,)))
    with pytest.raises(ValueError, match="3 GPUs asked, 2 free"):
        pool.take(Allocation((1, 0), (1, 3)))
    assert (int(pool.used[0]), int(pool.used[1])) == (6, 0)
    assert pool.problems() == []


def test_capacity_cannot_drop_below_what_jobs_hold(snap):
    pool = GpuPool(snap)
    pool.take(Allocation((0,), (5,)))
    with pytest.raises(ValueError, match="jobs hold 5 GPUs; vacate before 4"):
        pool.set_capacity(0, 4)
    pool.set_capacity(0, 5)
    assert pool.free_at(0) == 0
    assert pool.problems() == []


def test_first_fit_takes_the_first_node_with_room_and_best_fit_the_fullest(snap):
    pool = GpuPool(snap)
    h100 = np.flatnonzero(snap.node_model == model(snap, "H100"))
    pool.take(Allocation((int(h100[3]),), (5,)))  # node 3 has 3 free; nodes 0-2 have 8
    first = placed(place_job(pool, 3, JobPlacement.FIRST_FIT, model=model(snap, "H100")))
    best = placed(place_job(pool, 3, JobPlacement.BEST_FIT, model=model(snap, "H100")))
    assert first.nodes == (int(h100[0]),)
    assert best.nodes == (int(h100[3]),)


def test_a_job_that_fits_one_node_waits_rather_than_spread_under_fit_policies(snap):
    pool = GpuPool(snap)
    for n in range(len(snap.node_ids)):  # leave 2 free GPUs on every node
        pool.take(Allocation((n,), (int(snap.node_gpus[n]) - 2,)))
    assert pool.total_free >= 4
    assert place_job(pool, 4, JobPlacement.FIRST_FIT) is None
    assert place_job(pool, 4, JobPlacement.BEST_FIT) is None
    spread = placed(place_job(pool, 4, JobPlacement.COUNT))
    assert spread.gpus == (2, 2)


def test_a_job_larger_than_a_node_takes_whole_free_nodes(snap):
    pool = GpuPool(snap)
    h100 = model(snap, "H100")
    alloc = placed(place_job(pool, 20, JobPlacement.FIRST_FIT, model=h100))
    assert alloc.gpus == (8, 8, 4)
    assert all(snap.node_model[n] == h100 for n in alloc.nodes)


def test_best_fit_takes_whole_nodes_from_the_fullest_block(snap):
    pool = GpuPool(snap)
    h100 = model(snap, "H100")
    blocks = sorted({int(b) for b in snap.node_block[snap.node_model == h100]})
    assert len(blocks) >= 2
    first = np.flatnonzero(snap.node_block == blocks[0])
    for n in first[: len(first) - 2]:  # the first block keeps two whole nodes: the fullest
        pool.take(Allocation((int(n),), (8,)))
    assert int(pool.block_free[blocks[0]]) == min(int(pool.block_free[b]) for b in blocks)
    best = placed(place_job(pool, 16, JobPlacement.BEST_FIT, model=h100))
    assert {int(snap.node_block[n]) for n in best.nodes} == {blocks[0]}
    pool.take(Allocation((int(first[-1]),), (1,)))  # now it has one whole node left: too few
    best = placed(place_job(pool, 16, JobPlacement.BEST_FIT, model=h100))
    assert blocks[0] not in {int(snap.node_block[n]) for n in best.nodes}


def test_consolidated_keeps_a_multi_node_job_in_one_nvlink_domain(snap):
    pool = GpuPool(snap)
    gb200 = model(snap, "GB200")
    alloc = placed(place_job(pool, 64, JobPlacement.CONSOLIDATED, model=gb200))
    assert alloc.total == 64
    assert len({int(snap.node_domain[n]) for n in alloc.nodes}) == 1
    first = placed(place_job(pool, 64, JobPlacement.FIRST_FIT, model=gb200))
    assert len({int(snap.node_domain[n]) for n in first.nodes}) == 1  # whole nodes from index 0 happen to align


def test_a_job_that_asks_for_consolidation_waits_when_no_domain_has_room(snap):
    pool = GpuPool(snap)
    gb200 = model(snap, "GB200")
    domains = np.unique(snap.node_domain[snap.node_model == gb200])
    for d in domains:  # 8 GPUs taken in every GB200 domain: 64 free in each
        nodes = np.flatnonzero(snap.node_domain == d)
        pool.take(Allocation((int(nodes[0]), int(nodes[1])), (4, 4)))
    assert place_job(pool, 68, JobPlacement.CONSOLIDATED, model=gb200, consolidate=True) is None
    loose = placed(place_job(pool, 68, JobPlacement.CONSOLIDATED, model=gb200))
    assert loose.total == 68
    assert len({int(snap.node_domain[n]) for n in loose.nodes}) == 2  # no domain has 68: two of them
    assert len({int(snap.node_block[n]) for n in loose.nodes}) == 1  # but one block


def test_count_only_checks_how_many_gpus_are_free(snap):
    pool = GpuPool(snap)
    assert place_job(pool, pool.total_free + 1, JobPlacement.COUNT) is None
    alloc = placed(place_job(pool, pool.total_free, JobPlacement.COUNT))
    assert alloc.total == snap.total_gpus


def test_a_model_constraint_never_places_on_another_model(snap):
    pool = GpuPool(snap)
    gb200 = model(snap, "GB200")
    for policy in JobPlacement:
        alloc = placed(place_job(pool, 12, policy, model=gb200))
        assert all(snap.node_model[n] == gb200 for n in alloc.nodes), policy


def test_a_non_positive_request_is_an_error(snap):
    with pytest.raises(ValueError, match="gpus: 0 is not a positive count"):
        place_job(GpuPool(snap), 0, JobPlacement.COUNT)


def test_a_pool_strands_the_free_gpus_of_blocks_jobs_have_started_on(snap):
    pool = GpuPool(snap)
    assert measure_pool(pool).stranded_gpus == 0
    block = int(snap.node_block[0])
    pool.take(Allocation((0,), (1,)))
    frag = measure_pool(pool)
    assert frag.stranded_gpus == int(pool.block_free[block])
    assert frag.free_whole_blocks == len(snap.block_names) - 1
    pool.give(Allocation((0,), (1,)))
    pool.set_capacity(0, 0)  # a node down: its block is whole again over what it offers
    assert measure_pool(pool).stranded_gpus == 0


@pytest.mark.parametrize("policy", [JobPlacement.FIRST_FIT, JobPlacement.BEST_FIT, JobPlacement.CONSOLIDATED])
def test_a_job_larger_than_its_models_node_spans_nodes_even_when_other_models_have_bigger_ones(snap, policy):
    # 6 GB200 GPUs: more than a 4-GPU GB200 node, less than the fleet's 8-GPU H100 nodes
    pool = GpuPool(snap)
    gb200 = model(snap, "GB200")
    alloc = placed(place_job(pool, 6, policy, model=gb200))
    assert alloc.total == 6
    assert len(alloc.nodes) == 2
    assert all(snap.node_model[n] == gb200 for n in alloc.nodes)


def test_an_allocation_naming_a_node_twice_is_refused(snap):
    pool = GpuPool(snap)
    with pytest.raises(ValueError, match="names a node twice"):
        pool.take(Allocation((0, 0), (5, 5)))
    assert pool.problems() == []
    assert pool.total_used == 0
