"""The FGD packing experiment's loop: inflation, the allocation curve, determinism, bad pods."""

from __future__ import annotations

import numpy as np
import pytest

from neocloud.domain.workload import NodeCapacity, PodDetail, TraceJob
from neocloud.placement.packing import PodAsk
from neocloud.sim.pack import SeedRun, arrivals, experiment, pack, pod_asks, tie_order


def pod(name: str, gpus: int = 1, milli: int = 1000, cpu: int = 4_000, memory: int = 8_192) -> TraceJob:
    return TraceJob(name, 0.0, gpus, None, gpu_milli=milli, detail=PodDetail(cpu, memory))


def nodes(count: int = 4, gpus: int = 8) -> list[NodeCapacity]:
    return [NodeCapacity(f"n{i:02}", 96_000, 786_432, gpus, "G2") for i in range(count)]


MIXED = [pod(f"p{i:03}", *shape) for i, shape in enumerate([(1, 300), (1, 500), (1, 1000), (2, 1000), (0, 0)] * 6)]


def test_inflation_clones_pods_until_the_next_would_pass_the_target():
    asks = [PodAsk(4_000, 8_192, 1, m) for m in (300, 500, 700, 1000)]
    order = arrivals(asks, capacity_milli=32_000, inflate=1.3, rng=np.random.default_rng(3))
    asked = sum(asks[i].total_milli for i in order)
    assert sorted(order[:4]) == [0, 1, 2, 3]  # every pod of the list first, shuffled
    assert 1.3 * 32_000 - 1000 < asked <= 1.3 * 32_000
    assert len(order) > 4
    assert set(order[4:]) <= {0, 1, 2, 3}


def test_an_8_gpu_clone_is_checked_by_its_per_gpu_share_as_the_artifact_does():
    """tuneUpPods adds the clone's MilliGpu (per GPU) to the check, its total to the sum."""
    order = arrivals([PodAsk(8_000, 8_192, 8, 1000)], capacity_milli=16_000, inflate=1.3, rng=np.random.default_rng(0))
    assert len(order) == 3  # 8,000 + 1,000 <= 20,800 twice: 24,000 arrives, above 130%


def test_a_list_above_the_target_loses_random_pods_until_within_it():
    asks = [PodAsk(1_000, 1_024, 1, 1000)] * 10
    order = arrivals(asks, capacity_milli=5_000, inflate=1.3, rng=np.random.default_rng(1))
    assert len(order) == 6
    assert len(set(order)) == 6


def test_the_same_seed_packs_the_same_way_and_another_seed_differently():
    asks = pod_asks(MIXED)
    for policy in ("random", "fgd", "bestfit"):
        first, again = pack(nodes(), asks, policy, 7), pack(nodes(), asks, policy, 7)
        assert np.array_equal(first.arrived_milli, again.arrived_milli)
        assert np.array_equal(first.allocated_milli, again.allocated_milli)
    orders = {tuple(arrivals(asks, 32_000, 1.3, np.random.default_rng(s))) for s in range(5)}
    assert len(orders) == 5
    assert not np.array_equal(tie_order([f"n{i}" for i in range(50)], np.random.default_rng(1)), np.arange(50))


def test_curve_columns_average_the_records_that_round_to_them_else_the_neighbours():
    run = SeedRun(
        seed=0,
        total_gpus=10,
        arrived_milli=np.array([0, 500, 1000, 1000, 1040, 3000]),  # 0, 5, 10, 10, 10.4, 30 %
        allocated_milli=np.array([0, 500, 900, 1000, 1000, 2000]),
        placed=6,
    )
    curve = run.curve(31)
    assert curve["0"] == 0.0
    assert curve["5"] == 5.0
    assert curve["10"] == round((9 + 10 + 10) / 3, 2)
    assert curve["4"] == 5.0  # no record rounds to 4: those at 3 to 5
    assert curve["20"] is None
    assert curve["29"] == 20.0
    assert curve["31"] == 20.0
    assert list(curve) == [str(k) for k in range(32)]
    assert run.final_pct == 20.0


def test_the_experiment_curve_runs_from_0_to_the_inflated_share_with_each_seed():
    result = experiment(nodes(2), MIXED, "fgd", seeds=(1, 2, 3), inflate=1.3)
    curve = result.allocation_pct()
    assert list(curve) == [str(k) for k in range(131)]
    assert [r.seed for r in result.runs] == [1, 2, 3]
    for run in result.runs:
        assert run.allocated_milli[-1] <= 16_000
        assert run.placed <= run.pods
        assert (np.diff(run.allocated_milli) >= 0).all()
        assert (np.diff(run.arrived_milli) >= 0).all()
    assert curve["130"] is not None
    assert curve["130"] <= 100


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (pod("two-shares", gpus=2, milli=500), "pod two-shares: a share of 500 is for one GPU only"),
        (pod("no-milli", gpus=1, milli=0), "pod no-milli: asks for 1 GPUs with gpu_milli 0"),
        (TraceJob("philly-job", 0.0, 1, 10.0), "pod philly-job: no CPU and memory asks"),
        (pod("nine", gpus=9), "pod nine: gpus must be 0..8"),
    ],
)
def test_a_pod_the_experiment_cannot_take_is_named(job, message):
    with pytest.raises(ValueError, match=message):
        pod_asks([pod("fine"), job])


def test_a_pod_list_without_gpus_has_nothing_to_inflate():
    with pytest.raises(ValueError, match="asks for no GPUs"):
        pod_asks([pod("cpu", gpus=0, milli=0)])
