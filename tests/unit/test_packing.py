"""Fractional-GPU packing: the state's invariants and each FGD-paper scorer's choice on tiny clusters.

Each scorer test builds a cluster where the artifact's rule (hkust-adsl/kubernetes-
scheduler-simulator @8f3d6417, pkg/simulator/plugin/*_score.go) picks one node and
the obvious alternatives pick another.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.domain.workload import NodeCapacity
from neocloud.placement.packing import PackingState, PodAsk
from neocloud.placement.packing_scores import (
    POLICY_NAMES,
    FgdScorer,
    best_fit_gpus,
    choose_node,
    scorer,
    target_workload,
)


def node(name: str, gpus: int = 8, model: str | None = "G2", cpu: int = 96_000, memory: int = 786_432) -> NodeCapacity:
    return NodeCapacity(name, cpu, memory, gpus, model if gpus else None)


def share(milli: int, cpu: int = 4_000, memory: int = 8_192, models: tuple[str, ...] = ()) -> PodAsk:
    return PodAsk(cpu, memory, 1, milli, models)


def whole(gpus: int, cpu: int = 8_000, memory: int = 16_384) -> PodAsk:
    return PodAsk(cpu, memory, gpus, 1000)


def cpu_only(cpu: int = 8_000, memory: int = 16_384) -> PodAsk:
    return PodAsk(cpu, memory)


def in_order(state: PackingState) -> np.ndarray:
    """Ties to the lowest node index: rank = index."""
    return np.arange(state.nodes)


def choose(policy: str, state: PackingState, ask: PodAsk, target: list[PodAsk] | None = None) -> int | None:
    chosen = scorer(policy, target_workload(target or [ask]))
    return choose_node(state, ask, chosen, in_order(state), np.random.default_rng(0))


# ---- the filter and the state -------------------------------------------------------------


def test_a_pod_fits_only_where_cpu_memory_model_and_a_gpu_with_its_share_are_free():
    state = PackingState([node("a", model="T4"), node("b", model="G2"), node("c", cpu=2_000), node("d", gpus=0)])
    state.place(0, share(900), 1, (0,))
    for g in range(1, 8):
        state.place(g, share(900), 1, (g,))
    fits = state.fits(share(200, models=("G2",)))
    assert fits.tolist() == [False, False, False, False]  # T4, no 200 left on b, c short of CPU, d no GPUs
    assert state.fits(share(100, models=("G2",))).tolist() == [False, True, False, False]
    assert state.fits(cpu_only()).tolist() == [True, True, False, True]


def test_placing_a_pod_where_it_does_not_fit_is_refused_and_changes_nothing():
    state = PackingState([node("a", gpus=2)])
    state.place(0, share(600), 0, (0,))
    before = (state.cpu_free.copy(), state.gpu_free.copy(), len(state.placements))
    with pytest.raises(ValueError, match="thousandths free"):
        state.place(1, share(600), 0, (0,))
    with pytest.raises(ValueError, match="distinct GPUs"):
        state.place(1, whole(2), 0, (1, 1))
    with pytest.raises(ValueError, match="not all on the node"):
        state.place(1, share(100), 0, (5,))
    with pytest.raises(ValueError, match="not enough CPU or memory"):
        state.place(1, share(100, memory=10**9), 0, (1,))
    with pytest.raises(ValueError, match="GPU model G2 is not one of"):
        state.place(1, share(100, models=("T4",)), 0, (1,))
    assert np.array_equal(state.cpu_free, before[0])
    assert np.array_equal(state.gpu_free, before[1])
    assert len(state.placements) == before[2]
    assert state.problems() == []


def test_a_share_of_a_gpu_is_for_one_gpu_only():
    with pytest.raises(ValueError, match="one GPU only"):
        PodAsk(1000, 1024, 2, 500)


NODES = st.lists(
    st.builds(
        node,
        name=st.uuids().map(str),
        gpus=st.sampled_from([0, 1, 2, 4, 8]),
        model=st.sampled_from(["G2", "T4"]),
        cpu=st.integers(0, 64_000),
        memory=st.integers(0, 65_536),
    ),
    min_size=1,
    max_size=5,
)
ASKS = st.one_of(
    st.builds(
        share, st.integers(1, 1000), st.integers(0, 16_000), st.integers(0, 16_384), st.sampled_from([(), ("T4",)])
    ),
    st.builds(whole, st.sampled_from([1, 2, 4, 8]), st.integers(0, 16_000), st.integers(0, 16_384)),
    st.builds(cpu_only, st.integers(0, 16_000), st.integers(0, 16_384)),
)


@settings(max_examples=150, deadline=None)
@given(nodes=NODES, asks=st.lists(ASKS, max_size=40), policy=st.sampled_from(POLICY_NAMES), seed=st.integers(0, 99))
def test_no_policy_ever_puts_a_node_over_its_cpu_memory_or_a_gpu_over_1000_milli(nodes, asks, policy, seed):
    """Whatever the policy and the pods: within CPU, memory and each GPU's 1000 thousandths,
    a pod's GPUs distinct and on one node, every pod on a model it accepts (a recount)."""
    state = PackingState(nodes)
    chosen = scorer(policy, target_workload(asks or [cpu_only()]))
    rng = np.random.default_rng(seed)
    for i, ask in enumerate(asks):
        where = choose_node(state, ask, chosen, in_order(state), rng)
        assert (where is None) == (not state.fits(ask).any())
        if where is not None:
            state.place(i, ask, where, chosen.gpus(state, ask, where, rng))
        assert state.problems() == []
    assert (state.cpu_free >= 0).all()
    assert (state.memory_free >= 0).all()
    assert ((state.gpu_free >= 0) & (state.gpu_free <= 1000)).all()


def test_the_recount_catches_a_gpu_over_its_capacity():
    state = PackingState([node("a", gpus=1)])
    state.place(0, share(600), 0, (0,))
    state.gpu_free[0, 0] -= 600  # a second share written around place(): the recount must see it
    assert any("differ" in p for p in state.problems())


# ---- one test per scorer ------------------------------------------------------------------


def test_random_picks_any_feasible_node_uniformly_and_never_an_infeasible_one():
    state = PackingState([node("a"), node("b"), node("c", cpu=1_000), node("d")])
    random = scorer("random")
    rng = np.random.default_rng(7)
    picks = [choose_node(state, share(100), random, in_order(state), rng) for _ in range(600)]
    counts = np.bincount(np.array(picks), minlength=4)
    assert counts[2] == 0  # c lacks the CPU
    assert all(150 <= c <= 250 for c in counts[[0, 1, 3]]), counts


def test_dotprod_prefers_the_node_whose_free_resources_align_least_with_the_pod():
    # the pod's vector (CPU, GPU) dotted with each node's free vector: the 2-GPU node is smaller
    state = PackingState([node("big", gpus=8, cpu=96_000), node("small", gpus=2, cpu=16_000)])
    assert choose("dotprod", state, share(500)) == 1
    dot = scorer("dotprod").score(state, share(500), np.array([0, 1]))
    assert dot.tolist() == [int(100 * (1 - (96 / 128 * 4 / 128 + 1 * 500 / 8000) / 2)), 99]


def test_gpuclustering_puts_a_share_with_shares_before_an_idle_node_or_whole_gpu_pods():
    state = PackingState([node("idle"), node("wholes"), node("shares"), node("mixed")])
    state.place(0, whole(1), 1, (0,))
    state.place(1, share(300), 2, (0,))
    state.place(2, share(300), 3, (0,))
    state.place(3, whole(2), 3, (1, 2))
    scores = scorer("gpuclustering").score(state, share(200), np.arange(4))
    # idle: 25 + 0; wholes: 0 + 3; only shares: 75 + 0; shares among others: 50 + 7
    assert scores.tolist() == [25, 3, 75, 57]
    assert choose("gpuclustering", state, share(200)) == 2
    assert choose("gpuclustering", state, whole(1)) == 1  # a 1-GPU pod joins the 1-GPU pods


def test_gpupacking_fills_a_used_gpu_then_a_used_node_then_the_smallest_idle_node():
    state = PackingState([node("idle8"), node("idle2", gpus=2), node("used"), node("shared")])
    state.place(0, whole(1), 2, (0,))
    state.place(1, share(600), 3, (0,))
    packing = scorer("gpupacking")
    scores = packing.score(state, share(300), np.arange(4))
    assert scores.tolist() == [33 - 8, 33 - 2 + 0, 49, 100 - 4]  # idle, idle, a free GPU of a used node, 400 left
    assert choose("gpupacking", state, share(300)) == 3
    assert choose("gpupacking", state, share(500)) == 2  # 400 left on the shared GPU is too little
    assert choose("gpupacking", PackingState([node("8"), node("2", gpus=2)]), share(300)) == 1


def test_bestfit_takes_the_node_left_with_the_least_cpu_and_gpu():
    state = PackingState([node("roomy"), node("tight", cpu=32_000), node("tighter", gpus=4, cpu=32_000)])
    state.place(0, whole(4), 0, (0, 1, 2, 3))
    assert choose("bestfit", state, share(500)) == 2
    raw = scorer("bestfit").score(state, share(500), np.arange(3))
    expect = [(1 - ((96_000 - 8_000 - 4_000) / 128_000 * 0.5 + (4_000 - 500) / 8_000 * 0.5)) * 100]
    assert raw[0] == int(expect[0])


def test_fgd_keeps_a_gpu_whole_enough_for_the_most_common_share():
    """Target: pods of 600 thousandths. A 200 share on the GPU with 700 free leaves 500 there,
    too little for the target (fragmentation +500); on a free GPU it leaves 800 (no change).
    Best fit takes the tighter GPU; FGD takes the free one."""
    state = PackingState([node("a", gpus=1), node("b", gpus=1)])
    state.place(0, share(300), 0, (0,))
    target = [share(600)] * 9 + [share(200)]
    assert choose("bestfit", state, share(200), target) == 0
    assert choose("fgd", state, share(200), target) == 1


def test_fgd_gives_a_share_the_gpu_inside_the_node_that_fragments_least():
    state = PackingState([node("a", gpus=2)])
    state.place(0, share(300), 0, (0,))
    fgd = FgdScorer(target_workload([share(600)] * 9 + [share(200)]))
    assert best_fit_gpus(state, share(200), 0) == (0,)
    assert fgd.gpus(state, share(200), 0, np.random.default_rng(0)) == (1,)


def test_fgd_fragmentation_counts_free_gpu_that_no_target_shape_can_use():
    state = PackingState([node("a", gpus=2, cpu=10_000)])
    state.place(0, share(700, cpu=1_000), 0, (0,))  # 300 left on GPU 0, 1000 on GPU 1
    fgd = FgdScorer(target_workload([share(500, cpu=2_000)] * 3 + [cpu_only(2_000)]))
    # the 500 shape (weight 3) runs: only GPU 0's 300 is a fragment; the CPU shape counts all 1,300
    assert fgd.fragmentation(state, np.array([0])).tolist() == [3 * 300 + 1 * 1300]
    state.place(1, cpu_only(8_000), 0, ())  # 1,000 CPU left: the 500 shape cannot run
    assert fgd.fragmentation(state, np.array([0])).tolist() == [4 * 1300]


def test_a_tie_goes_to_the_node_first_in_the_seeded_order():
    state = PackingState([node("a"), node("b"), node("c")])
    packing = scorer("gpupacking")
    rank = np.array([2, 0, 1])
    assert choose_node(state, whole(8), packing, rank, np.random.default_rng(0)) == 1


def test_the_target_workload_is_the_most_frequent_shapes_up_to_95_percent():
    asks = [share(500)] * 60 + [whole(1)] * 35 + [cpu_only()] * 4 + [whole(8)]
    target = target_workload(asks)
    assert target.weight.tolist() == [60, 35]  # 95 of 100 pods: the last two shapes are left out
    assert target.gpu_milli.tolist() == [500, 1000]
    assert target_workload(asks, pct=96).weight.tolist() == [60, 35, 4]
